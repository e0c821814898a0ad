//! The library, streaming, playback and playlist part of the OpenAPI document.

use serde_json::{json, Value};

fn obj(props: Value) -> Value {
    json!({ "type": "object", "properties": props })
}

/// Schemas for the catalog, streams and playlists.
pub(crate) fn schemas() -> Value {
    let artist_ref = obj(json!({ "id": { "type": "string" }, "name": { "type": "string" } }));
    let opt_int = json!({ "type": ["integer", "null"] });
    let opt_str = json!({ "type": ["string", "null"] });
    json!({
        "ArtistRef": artist_ref,
        "Artist": obj(json!({ "id": { "type": "string" }, "name": { "type": "string" }, "album_count": { "type": "integer" }, "track_count": { "type": "integer" } })),
        "Album": obj(json!({
            "id": { "type": "string" }, "name": { "type": "string" }, "artist": { "type": "string" },
            "artists": { "type": "array", "items": { "$ref": "#/components/schemas/ArtistRef" } },
            "year": opt_int, "compilation": { "type": "boolean" }, "genres": { "type": "array", "items": { "type": "string" } },
            "track_count": { "type": "integer" }, "disc_count": { "type": "integer" }, "duration_ms": { "type": "integer" },
            "added_at": { "type": "integer", "description": "milliseconds since the epoch" }, "has_cover": { "type": "boolean" } })),
        "Track": obj(json!({
            "id": { "type": "string" }, "title": { "type": "string" },
            "artists": { "type": "array", "items": { "$ref": "#/components/schemas/ArtistRef" } },
            "album": { "type": "string" }, "album_id": { "type": "string" }, "album_artist": { "type": "string" },
            "compilation": { "type": "boolean" }, "genres": { "type": "array", "items": { "type": "string" } },
            "track_no": opt_int, "track_total": opt_int, "disc_no": opt_int, "disc_total": opt_int, "year": opt_int,
            "composer": opt_str, "comment": opt_str, "isrc": opt_str, "duration_ms": { "type": "integer" },
            "sample_rate": opt_int, "bit_depth": opt_int, "channels": opt_int, "bitrate": { "type": ["integer", "null"], "description": "kbit/s" },
            "codec": { "type": "string", "enum": ["mp3", "flac", "aac", "alac", "vorbis", "opus", "pcm", "speex", "unknown"] },
            "format": { "type": "string", "enum": ["mp3", "flac", "m4a", "ogg", "opus", "wav", "aiff"] },
            "size": { "type": "integer" }, "has_cover": { "type": "boolean" }, "added_at": { "type": "integer" } })),
        "Playing": obj(json!({ "device_id": { "type": "string" }, "name": { "type": "string" }, "started_at": { "type": "string", "format": "date-time" },
            "track": obj(json!({ "id": { "type": "string" }, "title": { "type": "string" }, "artist": { "type": "string" }, "album": { "type": "string" } })) })),
        "PlaybackReport": { "type": "object", "additionalProperties": false, "required": ["track_id", "state"], "properties": {
            "track_id": { "type": "string" }, "state": { "type": "string", "enum": ["playing", "paused", "stopped"] } } },
        "Playlist": obj(json!({ "id": { "type": "string" }, "name": { "type": "string" }, "created_at": { "type": "integer" }, "updated_at": { "type": "integer" },
            "track_count": { "type": "integer" }, "duration_ms": { "type": "integer" },
            "tracks": { "type": "array", "items": { "$ref": "#/components/schemas/Track" } } })),
        "NewPlaylist": { "type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 200 }, "track_ids": { "type": "array", "items": { "type": "string" } } } },
        "ScanStatus": obj(json!({ "tracks": { "type": "integer" }, "albums": { "type": "integer" },
            "progress": obj(json!({ "running": { "type": "boolean" }, "phase": { "type": "string", "enum": ["idle", "walking", "reading", "saving"] },
                "files_found": { "type": "integer" }, "to_read": { "type": "integer" }, "read": { "type": "integer" }, "last": { "type": ["object", "null"] } })) }))
    })
}

fn ok(schema: Value) -> Value {
    json!({ "description": "ok", "content": { "application/json": { "schema": schema } } })
}

fn r(s: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{s}") })
}

fn body(props: Value, required: &[&str]) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": {
        "type": "object", "additionalProperties": false, "required": required, "properties": props } } } })
}

/// Paths for the catalog, streams and playlists.
pub(crate) fn paths(err: &Value) -> Value {
    let id =
        json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }]);
    let size = json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
        { "name": "size", "in": "query", "schema": { "type": "integer", "minimum": 16, "maximum": 2048 }, "description": "rounded up to 64, 128, 256, 512 or 1024" }]);
    let jpeg =
        json!({ "description": "the picture", "content": { "image/jpeg": {}, "image/png": {} } });
    let list = |key: &str, s: &str| {
        ok(json!({ "type": "object", "properties": { key: { "type": "array", "items": r(s) } } }))
    };
    let ids = json!({ "type": "array", "items": { "type": "string" } });
    let pl = ok(r("Playlist"));
    json!({
        "/api/v1/artists": { "get": { "summary": "Every artist, by name", "responses": { "200": list("artists", "Artist"), "401": err } } },
        "/api/v1/artists/{id}": { "get": { "summary": "An artist and their albums", "parameters": id, "responses": { "200": ok(json!({ "type": "object", "properties": { "artist": r("Artist"), "albums": { "type": "array", "items": r("Album") } } })), "404": err } } },
        "/api/v1/albums": { "get": { "summary": "Albums, sorted and paged", "parameters": [
            { "name": "sort", "in": "query", "schema": { "type": "string", "enum": ["name", "artist", "year", "recent", "random"] } },
            { "name": "seed", "in": "query", "schema": { "type": "integer" }, "description": "with sort=random: the same seed gives the same order" },
            { "name": "genre", "in": "query", "schema": { "type": "string" } },
            { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500, "default": 50 } },
            { "name": "offset", "in": "query", "schema": { "type": "integer", "minimum": 0 } }],
            "responses": { "200": ok(json!({ "type": "object", "properties": { "total": { "type": "integer" }, "offset": { "type": "integer" }, "albums": { "type": "array", "items": r("Album") } } })), "400": err, "401": err, "422": err } } },
        "/api/v1/albums/{id}": { "get": { "summary": "An album and its tracks in disc and track order", "parameters": id, "responses": { "200": ok(json!({ "type": "object", "properties": { "album": r("Album"), "tracks": { "type": "array", "items": r("Track") } } })), "404": err } } },
        "/api/v1/albums/{id}/cover": { "get": { "summary": "The album's cover, original or resized", "parameters": size, "responses": { "200": jpeg, "404": err, "422": err } } },
        "/api/v1/tracks/{id}": { "get": { "summary": "One track", "parameters": id, "responses": { "200": ok(r("Track")), "404": err } } },
        "/api/v1/tracks/{id}/cover": { "get": { "summary": "The track's cover (embedded, or the picture beside the file)", "parameters": size, "responses": { "200": jpeg, "404": err, "422": err } } },
        "/api/v1/tracks/{id}/stream": { "get": { "summary": "The original file with HTTP Range, or transcoded to MP3; takes or shares this device's stream slot",
            "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                { "name": "takeover", "in": "query", "schema": { "type": "string" }, "description": "at the stream limit: stop this device's playback and play here" },
                { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["raw", "mp3", "aac"] }, "description": "mp3 (audio/mpeg) or aac (AAC-LC in ADTS, audio/aac): transcode as the client reads (no length, no ranges); raw or absent: the original file" },
                { "name": "bitrate", "in": "query", "schema": { "type": "integer", "enum": [96, 128, 160, 192, 224, 256, 320] }, "description": "transcoding bit rate in kbps: MP3 128 to 320 (320 when absent; an MP3 already at or below it is sent as it is), AAC 96 to 320 (256 when absent)" },
                { "name": "Range", "in": "header", "schema": { "type": "string", "examples": ["bytes=0-1023", "bytes=-500"] } }],
            "responses": { "200": { "description": "the whole file" }, "206": { "description": "the requested bytes, with Content-Range" },
                "401": err, "404": err, "409": { "description": "stream_limit_reached, with limit and streams (who plays what)", "content": { "application/json": { "schema": { "allOf": [r("Error"), { "type": "object", "properties": { "streams": { "type": "array", "items": r("Playing") } } }] } } } },
                "416": { "description": "the range is outside the file; Content-Range: bytes */size" } } } },
        "/api/v1/genres": { "get": { "summary": "Genres with track and album counts", "responses": { "200": ok(json!({ "type": "object" })), "401": err } } },
        "/api/v1/search": { "get": { "summary": "Every word must appear in a title, artist or album", "parameters": [
            { "name": "q", "in": "query", "schema": { "type": "string", "maxLength": 200 } }, { "name": "limit", "in": "query", "schema": { "type": "integer" } }],
            "responses": { "200": ok(json!({ "type": "object", "properties": { "artists": { "type": "array", "items": r("Artist") }, "albums": { "type": "array", "items": r("Album") }, "tracks": { "type": "array", "items": r("Track") } } })), "401": err, "422": err } } },
        "/api/v1/playback": {
            "get": { "summary": "Who plays on this account now, and the limit", "responses": { "200": ok(json!({ "type": "object", "properties": { "limit": { "type": "integer" }, "streams": { "type": "array", "items": r("Playing") } } })), "401": err } },
            "put": { "summary": "The player's heartbeat: playing renews the slot, paused or stopped frees it",
                "requestBody": { "required": true, "content": { "application/json": { "schema": r("PlaybackReport") } } },
                "responses": { "204": { "description": "noted" }, "401": err, "404": err, "409": { "description": "playback_stopped (reason taken_over, by_device) or stream_limit_reached", "content": { "application/json": { "schema": r("Error") } } }, "422": err } } },
        "/api/v1/playlists": {
            "get": { "summary": "This user's playlists", "responses": { "200": list("playlists", "Playlist"), "401": err } },
            "post": { "summary": "Create a playlist", "requestBody": { "required": true, "content": { "application/json": { "schema": r("NewPlaylist") } } }, "responses": { "201": pl.clone(), "422": err } } },
        "/api/v1/playlists/import": { "post": { "summary": "Create a playlist from M3U/M3U8 text; entries matched by path, then file name",
            "requestBody": body(json!({ "name": { "type": "string" }, "m3u8": { "type": "string" } }), &["name", "m3u8"]),
            "responses": { "201": ok(json!({ "type": "object", "properties": { "playlist": r("Playlist"), "unmatched": { "type": "array", "items": { "type": "string" } } } })), "422": err } } },
        "/api/v1/playlists/{id}": {
            "get": { "summary": "A playlist with its tracks", "parameters": id.clone(), "responses": { "200": pl.clone(), "404": err } },
            "patch": { "summary": "Rename", "parameters": id.clone(), "requestBody": body(json!({ "name": { "type": "string" } }), &["name"]), "responses": { "200": pl.clone(), "404": err, "422": err } },
            "delete": { "summary": "Delete", "parameters": id.clone(), "responses": { "204": { "description": "deleted" }, "404": err } } },
        "/api/v1/playlists/{id}/tracks": {
            "post": { "summary": "Insert tracks (at the end without position)", "parameters": id.clone(), "requestBody": body(json!({ "track_ids": ids, "position": { "type": "integer" } }), &["track_ids"]), "responses": { "200": pl.clone(), "404": err, "422": err } },
            "put": { "summary": "Replace the whole order", "parameters": id.clone(), "requestBody": body(json!({ "track_ids": ids }), &["track_ids"]), "responses": { "200": pl.clone(), "404": err, "422": err } } },
        "/api/v1/playlists/{id}/tracks/remove": { "post": { "summary": "Remove entries by position", "parameters": id.clone(), "requestBody": body(json!({ "positions": { "type": "array", "items": { "type": "integer" } } }), &["positions"]), "responses": { "200": pl.clone(), "404": err, "422": err } } },
        "/api/v1/playlists/{id}/tracks/move": { "post": { "summary": "Move one entry", "parameters": id.clone(), "requestBody": body(json!({ "from": { "type": "integer" }, "to": { "type": "integer" } }), &["from", "to"]), "responses": { "200": pl, "404": err, "422": err } } },
        "/api/v1/playlists/{id}/m3u8": { "get": { "summary": "Export as M3U8 (paths relative to the music folder)", "parameters": id, "responses": { "200": { "description": "the playlist", "content": { "audio/x-mpegurl": {} } }, "404": err } } },
        "/api/v1/admin/scan": {
            "get": { "summary": "Scan progress and library size", "responses": { "200": ok(r("ScanStatus")), "403": err } },
            "post": { "summary": "Start a scan", "responses": { "202": { "description": "started" }, "403": err, "409": err } } },
        "/api/v1/admin/scan/problems": { "get": { "summary": "Files the scanner could not read, with why", "responses": { "200": ok(json!({ "type": "object" })), "403": err } } }
    })
}
