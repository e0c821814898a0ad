//! The OpenAPI 3.1 document for the REST API, kept beside the routes it describes.

use axum::Json;
use serde_json::{json, Value};

fn error_ref() -> Value {
    json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn ok(schema: Value) -> Value {
    json!({ "description": "ok", "content": { "application/json": { "schema": schema } } })
}

fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

pub async fn document() -> Json<Value> {
    let mut doc = accounts_document();
    let err = error_ref();
    let parts = [
        (
            crate::openapi_library::paths(&err),
            crate::openapi_library::schemas(),
        ),
        (
            crate::openapi_exports::paths(&err),
            crate::openapi_exports::schemas(),
        ),
        (
            crate::openapi_apps::paths(&err),
            crate::openapi_apps::schemas(),
        ),
    ];
    for (more_paths, more_schemas) in parts {
        if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), more_paths) {
            paths.extend(more);
        }
        if let (Some(schemas), Value::Object(more)) =
            (doc["components"]["schemas"].as_object_mut(), more_schemas)
        {
            schemas.extend(more);
        }
    }
    if let Some(schemes) = doc["components"]["securitySchemes"].as_object_mut() {
        schemes.insert("oauth".into(), crate::openapi_apps::security_scheme());
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        crate::openapi_apps::annotate(paths);
    }
    Json(doc)
}

fn accounts_document() -> Value {
    let err = error_ref();
    let r = |s: &str| json!({ "$ref": format!("#/components/schemas/{s}") });
    let list = |s: &str| json!({ "type": "array", "items": { "$ref": format!("#/components/schemas/{s}") } });
    let id_param = json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[0-9a-f]{32}$" } }]);
    let user_param = json!([{ "name": "username", "in": "path", "required": true, "schema": { "type": "string" } }]);
    let limit_param =
        json!([{ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1 } }]);
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Clef API", "version": env!("CARGO_PKG_VERSION") },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "clef_session" }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error", "message"], "properties": {
                    "error": { "type": "string", "examples": ["invalid_credentials", "device_limit_reached", "signed_out"] },
                    "message": { "type": "string" },
                    "reason": { "type": "string", "enum": ["signed_out_by_user", "signed_out_everywhere", "password_changed", "password_reset", "expired", "account_disabled", "access_removed", "replaced_at_device_limit", "account_deleted", "token_revoked", "rotated", "refresh_token_reused", "code_replayed"] },
                    "by_device": { "type": "string", "description": "with signed_out: the device that signed this one out" },
                    "limit": { "type": "integer" },
                    "devices": { "type": "array", "items": { "$ref": "#/components/schemas/Device" } },
                    "retry_after": { "type": "integer" }
                } },
                "SignIn": { "type": "object", "additionalProperties": false, "description": "username and password; or, after 401 second_factor_required, challenge with code or recovery_code", "properties": {
                    "challenge": { "type": "string", "description": "From the second_factor_required answer (5 minutes, single use)." },
                    "code": { "type": "string", "description": "6 digits from the authenticator app." },
                    "recovery_code": { "type": "string" },
                    "username": { "type": "string" },
                    "password": { "type": "string", "minLength": 1, "maxLength": 1024 },
                    "device": { "type": "object", "additionalProperties": false, "properties": {
                        "name": { "type": "string", "minLength": 1, "maxLength": 64 },
                        "type": { "type": "string", "enum": ["computer", "phone", "tablet", "speaker", "tv", "car", "web", "app"] },
                        "client": { "type": "string" } } },
                    "replace_device_id": { "type": "string", "description": "at the device limit: sign this device out and complete the sign-in" }
                } },
                "Session": { "type": "object", "properties": { "token": { "type": "string" }, "device_id": { "type": "string" } } },
                "Device": { "type": "object", "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "type": { "type": "string" }, "client": { "type": "string" },
                    "ip": { "type": "string" }, "first_seen": { "type": "string", "format": "date-time" }, "last_seen": { "type": "string", "format": "date-time" },
                    "current": { "type": "boolean" }, "playing": { "type": "boolean" } } },
                "SignOutEverywhere": { "type": "object", "additionalProperties": false, "properties": { "keep_current": { "type": "boolean" }, "remove_apps": { "type": "boolean", "description": "also remove every app's access" } } },
                "ChangePassword": { "type": "object", "additionalProperties": false, "required": ["current_password", "new_password"], "properties": {
                    "current_password": { "type": "string" }, "new_password": { "type": "string", "minLength": 8, "maxLength": 128 } } },
                "User": { "type": "object", "properties": {
                    "id": { "type": "string" }, "username": { "type": "string" }, "is_admin": { "type": "boolean" }, "disabled": { "type": "boolean" },
                    "max_devices": { "type": "integer" }, "max_streams": { "type": "integer" }, "created_at": { "type": "string" },
                    "must_change_password": { "type": "boolean", "description": "An admin set a temporary password: until a new one is chosen (PUT /api/v1/me/password), every other request answers 403 password_change_required." },
                    "email": { "type": ["string", "null"], "description": "The confirmed address: reset links and notices go there." },
                    "notify_new_device": { "type": "boolean" }, "two_step": { "type": "boolean" } } },
                "CreateUser": { "type": "object", "additionalProperties": false, "required": ["username", "password"], "properties": {
                    "username": { "type": "string" }, "password": { "type": "string" }, "is_admin": { "type": "boolean" }, "email": { "type": ["string", "null"] } } },
                "ResetRequest": { "type": "object", "additionalProperties": false, "required": ["login"], "properties": {
                    "login": { "type": "string", "description": "A user name or an e-mail address." } } },
                "ResetComplete": { "type": "object", "additionalProperties": false, "required": ["token", "new_password"], "properties": {
                    "token": { "type": "string", "description": "The token of the mailed link." }, "new_password": { "type": "string", "minLength": 8, "maxLength": 128 } } },
                "ChangeEmail": { "type": "object", "additionalProperties": false, "required": ["current_password"], "properties": {
                    "current_password": { "type": "string" }, "email": { "type": ["string", "null"], "description": "The new address; null or empty removes it." } } },
                "ConfirmEmail": { "type": "object", "additionalProperties": false, "required": ["token"], "properties": { "token": { "type": "string" } } },
                "BeginTwoStep": { "type": "object", "additionalProperties": false, "required": ["current_password"], "properties": { "current_password": { "type": "string" } } },
                "ConfirmTwoStep": { "type": "object", "additionalProperties": false, "required": ["code"], "properties": { "code": { "type": "string" } } },
                "DisableTwoStep": { "type": "object", "additionalProperties": false, "required": ["current_password", "code"], "properties": {
                    "current_password": { "type": "string" }, "code": { "type": "string", "description": "From the app, or a recovery code." } } },
                "Notices": { "type": "object", "additionalProperties": false, "required": ["new_device"], "properties": { "new_device": { "type": "boolean" } } },
                "UpdateUser": { "type": "object", "additionalProperties": false, "properties": {
                    "max_devices": { "type": "integer", "minimum": 1, "maximum": 1000 }, "max_streams": { "type": "integer", "minimum": 1, "maximum": 1000 }, "disabled": { "type": "boolean" }, "is_admin": { "type": "boolean" } } },
                "PasswordReset": { "type": "object", "additionalProperties": false, "properties": {
                    "password": { "type": "string", "minLength": 8, "maxLength": 128, "description": "A temporary password, to be replaced at the next sign-in. Without it, the user is e-mailed a reset link." } } },
                "Event": { "type": "object", "properties": {
                    "id": { "type": "string" }, "user_id": { "type": "string" }, "at": { "type": "string" }, "kind": { "type": "string" }, "description": { "type": "string" },
                    "device_id": { "type": ["string", "null"] }, "device_name": { "type": ["string", "null"] }, "ip": { "type": ["string", "null"] }, "detail": { "type": ["string", "null"] } } }
            }
        },
        "security": [{ "bearer": [] }, { "cookie": [] }],
        "paths": {
            "/api/v1/sessions": { "post": { "summary": "Sign in as a new device", "security": [], "requestBody": body("SignIn"),
                "responses": { "201": ok(r("Session")), "400": err, "401": err, "409": err, "413": err, "422": err, "429": err } } },
            "/api/v1/sessions/current": { "delete": { "summary": "Sign this device out", "responses": { "204": { "description": "signed out" }, "401": err } } },
            "/api/v1/devices": { "get": { "summary": "This account's devices", "responses": { "200": ok(list("Device")), "401": err } } },
            "/api/v1/devices/{id}": { "delete": { "summary": "Sign one device out", "parameters": id_param, "responses": { "204": { "description": "signed out" }, "401": err, "404": err } } },
            "/api/v1/devices/sign-out-everywhere": { "post": { "summary": "Sign out every device", "requestBody": body("SignOutEverywhere"),
                "responses": { "200": ok(json!({ "type": "object", "properties": { "signed_out": { "type": "integer" } } })), "401": err } } },
            "/api/v1/me": { "get": { "summary": "The signed-in user", "responses": { "200": ok(r("User")), "401": err } } },
            "/api/v1/me/password": { "put": { "summary": "Change the password; signs out every other device", "requestBody": body("ChangePassword"),
                "responses": { "204": { "description": "changed" }, "401": err, "403": err, "422": err } } },
            "/api/v1/me/email": { "put": { "summary": "Change or remove the e-mail address (needs the current password; a new address is confirmed by a mailed link)", "requestBody": body("ChangeEmail"),
                "responses": { "200": { "description": "removed or unchanged" }, "202": { "description": "confirmation link sent" }, "401": err, "403": err, "422": err, "429": err } } },
            "/api/v1/me/notices": { "put": { "summary": "Turn the new-device e-mail on or off (security notices always go)", "requestBody": body("Notices"),
                "responses": { "204": { "description": "saved" }, "401": err } } },
            "/api/v1/email-confirmations": { "post": { "summary": "Use the link mailed to a new address", "security": [], "requestBody": body("ConfirmEmail"),
                "responses": { "200": { "description": "the address now in use" }, "409": err, "410": err } } },
            "/api/v1/password-resets": { "post": { "summary": "Forgot password: e-mail a reset link (the same answer whether or not an account matches)", "security": [], "requestBody": body("ResetRequest"),
                "responses": { "202": { "description": "if an account matches, a link is on its way" }, "400": err, "429": err } } },
            "/api/v1/password-resets/complete": { "post": { "summary": "Set a new password with a mailed link: every device, app and player is signed out (reason password_reset)", "security": [], "requestBody": body("ResetComplete"),
                "responses": { "204": { "description": "changed" }, "410": err, "422": err } } },
            "/api/v1/me/two-step": { "post": { "summary": "Start two-step sign-in: a new authenticator key, its otpauth URI and QR code (needs the password)", "requestBody": body("BeginTwoStep"),
                "responses": { "201": { "description": "key, otpauth_uri, qr_svg" }, "401": err, "403": err, "409": err } } },
            "/api/v1/me/two-step/confirm": { "post": { "summary": "Turn two-step sign-in on with the first code; the answer holds the ten recovery codes, once", "requestBody": body("ConfirmTwoStep"),
                "responses": { "200": { "description": "recovery_codes" }, "401": err, "404": err, "409": err } } },
            "/api/v1/me/two-step/disable": { "post": { "summary": "Turn two-step sign-in off (needs the password and a code or a recovery code)", "requestBody": body("DisableTwoStep"),
                "responses": { "204": { "description": "off" }, "401": err, "403": err } } },
            "/api/v1/me/two-step/recovery-codes": { "post": { "summary": "Ten new recovery codes in place of the old ones (needs the password); in this answer only", "requestBody": body("BeginTwoStep"),
                "responses": { "200": { "description": "recovery_codes" }, "401": err, "403": err, "404": err } } },
            "/api/v1/admin/users/{username}/two-step": { "delete": { "summary": "Turn a user's two-step sign-in off (they lost their phone); logged and mailed", "parameters": user_param.clone(),
                "responses": { "204": { "description": "off" }, "403": err, "404": err } } },
            "/api/v1/security-events": { "get": { "summary": "This account's security log", "parameters": limit_param.clone(), "responses": { "200": ok(list("Event")), "401": err } } },
            "/api/v1/admin/users": {
                "get": { "summary": "All users", "responses": { "200": ok(list("User")), "401": err, "403": err } },
                "post": { "summary": "Create a user", "requestBody": body("CreateUser"), "responses": { "201": ok(r("User")), "403": err, "409": err, "422": err } } },
            "/api/v1/admin/users/{username}": {
                "patch": { "summary": "Set limits, disable, or make or remove an admin (never the last enabled one: 409 last_admin)", "parameters": user_param, "requestBody": body("UpdateUser"),
                    "responses": { "200": ok(r("User")), "403": err, "404": err, "409": err, "422": err } },
                "delete": { "summary": "Delete a user with their devices, playlists and export history (their exported files stay)", "parameters": user_param,
                    "responses": { "204": { "description": "deleted" }, "403": err, "404": err, "409": err, "422": err } } },
            "/api/v1/admin/users/{username}/password-reset": { "post": { "summary": "With a temporary password: every device is signed out and the user chooses a new password at the next sign-in. Without one: the user is e-mailed a reset link (409 no_email_address when they have no address)", "parameters": user_param, "requestBody": body("PasswordReset"),
                "responses": { "200": { "description": "devices_signed_out, or link_sent_to" }, "403": err, "404": err, "409": err, "422": err } } },
            "/api/v1/admin/security-events": { "get": { "summary": "Every user's security log", "parameters": limit_param, "responses": { "200": ok(list("Event")), "403": err } } },
            "/healthz": { "get": { "summary": "Liveness", "security": [], "responses": { "200": { "description": "ok" } } } }
        }
    })
}
