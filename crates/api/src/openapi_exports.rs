//! The offline-export part of the OpenAPI document.

use serde_json::{json, Value};

/// Schemas for exports and their settings.
pub(crate) fn schemas() -> Value {
    let opt_int = json!({ "type": ["integer", "null"] });
    let opt_str = json!({ "type": ["string", "null"] });
    json!({
        "ExportSettings": { "type": "object", "additionalProperties": false, "required": ["format"], "properties": {
            "format": { "type": "string", "enum": ["mp3", "aac", "flac", "wav", "aiff", "alac"], "description": "aac and alac are written in .m4a" },
            "bitrate": { "type": "integer", "enum": [96, 128, 160, 192, 224, 256, 320], "description": "MP3 constant bit rate in kbps, 128 to 320 (320 when neither bitrate nor vbr is given); AAC bit rate, 96 to 320 (256 when absent)" },
            "vbr": { "type": "integer", "minimum": 0, "maximum": 4, "description": "MP3 variable bit rate quality, V0 (best) to V4" },
            "bit_depth": { "type": "integer", "enum": [16, 24], "description": "lossless formats; absent keeps the source's (reducing is dithered)" },
            "sample_rate": { "type": "integer", "enum": [44100, 48000, 88200, 96000, 176400, 192000], "description": "lossless formats; absent keeps the source's rate" },
            "compression": { "type": "integer", "minimum": 0, "maximum": 8, "description": "FLAC level (5 when absent)" } } },
        "NewExport": { "type": "object", "additionalProperties": false, "required": ["settings"], "properties": {
            "title": { "type": "string", "description": "defaults to the playlist's or album's name" },
            "track_ids": { "type": "array", "items": { "type": "string" }, "description": "the ticked songs in order; empty with playlist_id or album_id means all of them" },
            "playlist_id": { "type": "string" }, "album_id": { "type": "string" },
            "settings": { "$ref": "#/components/schemas/ExportSettings" },
            "folder": { "type": "string", "description": "relative to the user's own folder (<root>/<username>) in the first export folder; administrators may give an absolute path inside their folder of any export folder" },
            "pattern": { "type": "string", "default": "{album_artist}/{album}/{track:02} {title}",
                "description": "fields: title, artist, album, album_artist, track, disc, year, genre; numbers take a width such as {track:02}; '/' makes folders" } } },
        "ExportFile": { "type": "object", "properties": {
            "position": { "type": "integer" }, "track_id": { "type": "string" }, "path": { "type": "string", "description": "under the export's folder" },
            "state": { "type": "string", "enum": ["pending", "done", "failed"] }, "size": opt_int, "error": opt_str } },
        "Export": { "type": "object", "properties": {
            "id": { "type": "string" }, "title": { "type": "string" }, "settings": { "$ref": "#/components/schemas/ExportSettings" },
            "folder": { "type": "string", "description": "absolute for administrators; for anyone else relative to their own folder" }, "pattern": { "type": "string" },
            "state": { "type": "string", "enum": ["running", "done", "cancelled", "failed"] },
            "created_at": { "type": "integer", "description": "milliseconds since the epoch" }, "finished_at": opt_int, "error": opt_str,
            "total": { "type": "integer" }, "done": { "type": "integer" }, "failed": { "type": "integer" }, "size": { "type": "integer" },
            "files": { "type": "array", "items": { "$ref": "#/components/schemas/ExportFile" } } } },
        "ExportProgress": { "type": "object", "properties": {
            "state": { "type": "string", "enum": ["running", "done", "cancelled", "failed"] },
            "files": { "type": "array", "items": { "type": "object", "properties": {
                "position": { "type": "integer" }, "state": { "type": "string", "enum": ["pending", "converting", "done", "failed"] },
                "fraction": { "type": "number", "minimum": 0, "maximum": 1 } } } },
            "done": { "type": "integer" }, "failed": { "type": "integer" }, "total": { "type": "integer" },
            "overall": { "type": "number", "minimum": 0, "maximum": 1 } } }
    })
}

pub(crate) fn paths(err: &Value) -> Value {
    let id =
        json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }]);
    let export = json!({ "description": "ok", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Export" } } } });
    json!({
        "/api/v1/exports": {
            "get": { "summary": "The Converted history, newest first, and whether exports are allowed (the owner's export folders)",
                "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "type": "object", "properties": {
                    "enabled": { "type": "boolean" }, "roots": { "type": "array", "items": { "type": "string" }, "description": "the export folders (listed to administrators only)" },
                    "problem": { "type": ["string", "null"], "description": "why exports cannot be saved now (missing, read-only or full export folder), or null" },
                    "exports": { "type": "array", "items": { "$ref": "#/components/schemas/Export" } } } } } } }, "401": err } },
            "post": { "summary": "Convert songs of the library into files in an export folder; runs in the background",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewExport" } } } },
                "responses": { "202": export, "400": err, "401": err, "403": err, "404": err, "409": err, "422": err } } },
        "/api/v1/exports/{id}": {
            "get": { "summary": "An export with its files", "parameters": id, "responses": { "200": export, "401": err, "404": err } },
            "delete": { "summary": "Cancel a running export (finished files stay); on an ended one, remove it from the history (its files stay on disk)",
                "parameters": id, "responses": { "200": export, "204": { "description": "removed from the history" }, "401": err, "404": err } } },
        "/api/v1/exports/{id}/events": { "get": { "summary": "Progress as server-sent events named 'progress' (ExportProgress JSON), ending with the export",
            "parameters": id, "responses": { "200": { "description": "an event stream", "content": { "text/event-stream": { "schema": { "$ref": "#/components/schemas/ExportProgress" } } } }, "401": err, "404": err } } },
        "/api/v1/exports/{id}/zip": { "get": { "summary": "The export's finished files and its M3U8 as a ZIP, streamed",
            "parameters": id, "responses": { "200": { "description": "a ZIP archive", "content": { "application/zip": {} } }, "401": err, "404": err } } }
    })
}
