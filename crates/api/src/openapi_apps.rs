//! The OpenAPI description of apps and the access apps hold, and of what each route needs from
//! an app's token (from `scopes::need`, the table the requests are checked against).

use axum::http::Method;
use clef_core::Scope;
use serde_json::{json, Map, Value};

use crate::scopes::{need, Need};

pub fn paths(err: &Value) -> Value {
    let client_param = json!([{ "name": "client_id", "in": "path", "required": true, "schema": { "type": "string" } }]);
    let grant_param = json!([{ "name": "grant_id", "in": "path", "required": true, "schema": { "type": "string" } }]);
    let ok = |schema: Value| json!({ "description": "ok", "content": { "application/json": { "schema": schema } } });
    json!({
        "/api/v1/apps": {
            "get": { "summary": "The apps this user registered", "responses": { "200": ok(json!({ "type": "array", "items": { "$ref": "#/components/schemas/App" } })), "401": err, "403": err } },
            "post": { "summary": "Register an app; a confidential app's client_secret is in this answer only",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewApp" } } } },
                "responses": { "201": ok(json!({ "$ref": "#/components/schemas/App" })), "401": err, "403": err, "422": err } } },
        "/api/v1/apps/{client_id}": { "delete": { "summary": "Delete an app this user registered; every user's access to it ends first", "parameters": client_param,
            "responses": { "204": { "description": "deleted" }, "403": err, "404": err } } },
        "/api/v1/me/apps": { "get": { "summary": "Every app with access to this account (the Apps page)",
            "responses": { "200": ok(json!({ "type": "array", "items": { "$ref": "#/components/schemas/AppAccess" } })), "401": err, "403": err } } },
        "/api/v1/me/apps/{grant_id}": { "delete": { "summary": "Remove access: the grant, its tokens and the devices authorised through it end at once", "parameters": grant_param,
            "responses": { "204": { "description": "removed" }, "403": err, "404": err } } },
        "/api/v1/app-passwords": { "post": { "summary": "An app password or API key for a Subsonic app: a new device of this account (under its device limit), the secret in this answer only",
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewAppPassword" } } } },
            "responses": { "201": ok(json!({ "$ref": "#/components/schemas/AppPassword" })), "401": err, "403": err, "409": err, "422": err } } }
    })
}

pub fn schemas() -> Value {
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    json!({
        "NewAppPassword": { "type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 64, "description": "the device's name, such as Anna's phone" },
            "type": { "type": "string", "enum": ["computer", "phone", "tablet", "speaker", "tv", "car", "web", "app"], "default": "phone" },
            "kind": { "type": "string", "enum": ["app_password", "api_key"], "default": "app_password" },
            "replace_device_id": { "type": "string", "description": "at the device limit, sign this device out to make room" } } },
        "AppPassword": { "type": "object", "properties": {
            "username": { "type": "string", "description": "the Subsonic user name (u)" },
            "kind": { "type": "string", "enum": ["app_password", "api_key"] },
            "password": { "type": "string", "description": "an app password: 28 letters and digits in groups of four (p, or t and s)" },
            "api_key": { "type": "string", "description": "an OpenSubsonic API key (apiKey)" },
            "device_id": { "type": "string" } } },
        "NewApp": { "type": "object", "additionalProperties": false, "required": ["name", "redirect_uris"], "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 80 },
            "redirect_uris": { "type": "array", "minItems": 1, "maxItems": 10, "items": { "type": "string" },
                "description": "https, http only on 127.0.0.1/[::1]/localhost (any port for public apps), or an app's own scheme such as com.example.player:/cb; matched exactly" },
            "confidential": { "type": "boolean", "description": "has a client secret; public apps prove codes with PKCE alone" } } },
        "App": { "type": "object", "properties": {
            "client_id": { "type": "string" }, "client_secret": { "type": "string", "description": "only when just registered" },
            "name": { "type": "string" }, "redirect_uris": { "type": "array", "items": { "type": "string" } },
            "confidential": { "type": "boolean" }, "created_at": { "type": "string", "format": "date-time" } } },
        "AppAccess": { "type": "object", "properties": {
            "grant_id": { "type": "string" }, "client_id": { "type": "string" }, "name": { "type": "string" }, "registered_by": { "type": "string" },
            "scopes": { "type": "array", "items": { "type": "string", "enum": scopes } },
            "granted_at": { "type": "string", "format": "date-time" }, "last_used": { "type": "string", "format": "date-time" },
            "devices": { "type": "array", "items": { "$ref": "#/components/schemas/Device" } } } }
    })
}

/// The `oauth` security scheme: the flows this server runs.
pub fn security_scheme() -> Value {
    let scopes: Map<String, Value> = Scope::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_owned(),
                Value::String(s.describe().to_owned()),
            )
        })
        .collect();
    json!({ "type": "oauth2", "flows": {
        "authorizationCode": { "authorizationUrl": "/oauth/authorize", "tokenUrl": "/oauth/token", "refreshUrl": "/oauth/token", "scopes": scopes },
        "deviceAuthorization": { "deviceAuthorizationUrl": "/oauth/device_authorization", "tokenUrl": "/oauth/token", "scopes": scopes }
    } })
}

/// States on every operation what an app's token needs to call it: `security` lists the `oauth`
/// scope where apps may call it, and `x-apps` says `never` where they may not.
pub fn annotate(paths: &mut Map<String, Value>) {
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in ops.iter_mut() {
            let Ok(m) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            if op.get("security").is_some_and(|s| s == &json!([])) || !path.starts_with("/api/v1/")
            {
                continue;
            }
            match need(&m, path) {
                Need::Scope(scope) => {
                    op.insert(
                        "security".into(),
                        json!([{ "bearer": [] }, { "cookie": [] }, { "oauth": [scope.as_str()] }]),
                    );
                }
                Need::Account => {
                    op.insert(
                        "x-apps".into(),
                        json!("never: a sign-in of the account's owner only"),
                    );
                }
            }
        }
    }
}
