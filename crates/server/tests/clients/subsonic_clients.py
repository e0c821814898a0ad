"""Drives a running Clef through two real Subsonic client libraries and prints what they saw as
JSON, for the Rust test to check against the REST API: py-sonic (libsonic) with token login and
with `p=enc:` (legacy), and py-opensonic (libopensonic) with an OpenSubsonic API key.

Environment: CLEF_HOST (http://127.0.0.1), CLEF_PORT, CLEF_USER, APP_PASSWORD, API_KEY.
"""

import json
import os
import sys

import libopensonic
import libsonic

HOST = os.environ["CLEF_HOST"]
PORT = int(os.environ["CLEF_PORT"])
USER = os.environ["CLEF_USER"]
APP_PASSWORD = os.environ["APP_PASSWORD"]
API_KEY = os.environ["API_KEY"]

LIST_TYPES = [
    "random",
    "newest",
    "alphabeticalByName",
    "alphabeticalByArtist",
    "byYear",
    "byGenre",
    "starred",
    "frequent",
    "recent",
    "highest",
]


def as_list(v):
    """Subsonic JSON lists: absent, or a list."""
    return v if isinstance(v, list) else ([] if v is None else [v])


def libsonic_run(conn):
    out = {"ping": conn.ping()}
    arts = conn.getArtists()["artists"]
    out["artists"] = [a["name"] for i in as_list(arts.get("index")) for a in as_list(i.get("artist"))]
    idx = conn.getIndexes()["indexes"]
    out["indexes"] = [a["name"] for i in as_list(idx.get("index")) for a in as_list(i.get("artist"))]
    lists = {}
    genre = None
    for t in LIST_TYPES:
        kw = {"ltype": t, "size": 500}
        if t == "byYear":
            kw.update(fromYear=1900, toYear=2100)
        if t == "byGenre":
            kw.update(genre=genre or "")
        got = conn.getAlbumList2(**kw)["albumList2"]
        albums = as_list(got.get("album"))
        if t == "newest" and albums:
            genre = albums[0].get("genre")
        lists[t] = [{"id": a["id"], "name": a["name"], "year": a.get("year"), "genre": a.get("genre")} for a in albums]
    out["album_lists"] = lists
    out["genre_asked"] = genre
    first = lists["alphabeticalByName"][0]["id"]
    album = conn.getAlbum(first)["album"]
    songs = as_list(album.get("song"))
    out["album"] = {
        "id": album["id"],
        "name": album["name"],
        "songCount": album["songCount"],
        "coverArt": album.get("coverArt"),
        "songs": [s["id"] for s in songs],
    }
    song = conn.getSong(songs[0]["id"])["song"]
    out["song"] = song
    # Every song, page by page, as a syncing client does it.
    seen, offset = [], 0
    while True:
        page = conn.search3("", artistCount=0, albumCount=0, songCount=2, songOffset=offset)["searchResult3"]
        got = as_list(page.get("song"))
        if not got:
            break
        seen += [s["id"] for s in got]
        offset += len(got)
    out["search_all"] = seen
    word = song["title"].split()[0]
    hits = conn.search3(word)["searchResult3"]
    out["search_word"] = word
    out["search_hits"] = [s["title"] for s in as_list(hits.get("song"))]
    # Playlists: create, rename and edit, delete.
    ids = out["album"]["songs"]
    conn.createPlaylist(name="Road trip", songIds=ids[:2])
    pls = as_list(conn.getPlaylists()["playlists"].get("playlist"))
    pid = pls[0]["id"]
    conn.updatePlaylist(pid, name="Road trip 2", songIdsToAdd=[ids[-1]], songIndexesToRemove=[0])
    pl = conn.getPlaylist(pid)["playlist"]
    out["playlist"] = {"name": pl["name"], "songs": [e["id"] for e in as_list(pl.get("entry"))]}
    conn.deletePlaylist(pid)
    out["playlists_after_delete"] = len(as_list(conn.getPlaylists()["playlists"].get("playlist")))
    cover = conn.getCoverArt(album["coverArt"], size=64).read()
    out["cover"] = {"len": len(cover), "head": cover[:4].hex()}
    mp3 = conn.stream(songs[0]["id"], tformat="mp3", maxBitRate=128)
    body = mp3.read()
    out["mp3"] = {"content_type": mp3.headers.get("Content-Type"), "len": len(body), "head": body[:3].hex()}
    out["listening"] = listening(conn, [a["id"] for a in lists["alphabeticalByName"]])
    return out


def listening(conn, album_ids):
    """Stars, ratings, scrobbles, now playing and the play queue, as a phone uses them."""
    a0, a1 = album_ids[0], album_ids[1]
    s0, s1 = [s["id"] for s in as_list(conn.getAlbum(a0)["album"].get("song"))][:2]
    x = as_list(conn.getAlbum(a1)["album"].get("song"))[0]["id"]
    artist = conn.getSong(s0)["song"]["artistId"]
    out = {"a0": a0, "a1": a1, "s0": s0, "s1": s1, "x": x, "artist": artist}
    conn.star(sids=[s0], albumIds=[a0], artistIds=[artist])
    conn.setRating(s0, 4)
    conn.setRating(a1, 5)
    conn.scrobble(s1, submission=False)
    now = conn.getNowPlaying()["nowPlaying"]
    out["now_playing"] = [{"id": e["id"], "username": e.get("username"), "minutesAgo": e.get("minutesAgo")}
                          for e in as_list(now.get("entry"))]
    conn.scrobble(s0)
    conn.scrobble(s0)
    conn.scrobble(x, listenTime=1600000000)
    starred = conn.getStarred2()["starred2"]
    out["starred2"] = {k: [e["id"] for e in as_list(starred.get(k))] for k in ("artist", "album", "song")}
    song = conn.getSong(s0)["song"]
    out["song"] = {k: song.get(k) for k in ("starred", "userRating", "playCount", "played")}
    album = conn.getAlbum(a0)["album"]
    out["album"] = {k: album.get(k) for k in ("starred", "userRating", "playCount")}
    out["lists"] = {t: [a["id"] for a in as_list(conn.getAlbumList2(ltype=t, size=50)["albumList2"].get("album"))]
                    for t in ("starred", "frequent", "recent", "highest")}
    conn.unstar(sids=[s0])
    out["songs_starred_after_unstar"] = [e["id"] for e in as_list(conn.getStarred()["starred"].get("song"))]
    conn.savePlayQueue([s1, s0, x], current=s0, position=42000)
    return out


def opensonic_run(conn):
    out = {"ping": bool(conn.ping())}
    out["token_user"] = conn.token_info().username
    arts = conn.get_artists()
    out["artists"] = sorted(a.name for i in (arts.index or []) for a in (i.artist or []))
    newest = conn.get_album_list2("newest", size=500)
    out["newest"] = [a.id for a in newest]
    album = conn.get_album(newest[-1].id)
    out["album_songs"] = [s.id for s in (album.song or [])]
    found = conn.search3("", artist_count=0, album_count=0, song_count=500)
    out["search_all"] = sorted(s.id for s in (found.song or []))
    r = conn.stream(out["album_songs"][0], byte_range="bytes=0-99")
    out["range"] = {
        "status": r.status,
        "content_range": r.headers.get("Content-Range"),
        "content_length": r.headers.get("Content-Length"),
    }
    r.release()
    # Lyrics (OpenSubsonic songLyrics) of every song, as the library parsed them.
    out["lyrics"] = {
        sid: [
            {
                "lang": l.lang,
                "synced": l.synced,
                "offset": l.offset,
                "display_artist": l.display_artist,
                "display_title": l.display_title,
                "lines": [{"start": x.start, "value": x.value} for x in l.line],
            }
            for l in conn.get_lyrics_by_song_id(sid)
        ]
        for sid in out["search_all"]
    }
    try:
        conn.get_lyrics_by_song_id("no-such-song")
        out["lyrics_unknown"] = "answered"
    except libopensonic.errors.DataNotFoundError as e:
        out["lyrics_unknown"] = type(e).__name__
    return out


def main():
    report = {}
    token = libsonic.Connection(HOST, USER, APP_PASSWORD, port=PORT, appName="py-sonic test")
    report["token_login"] = libsonic_run(token)
    legacy = libsonic.Connection(HOST, USER, APP_PASSWORD, port=PORT, appName="py-sonic legacy", legacyAuth=True)
    report["legacy_login"] = {
        "ping": legacy.ping(),
        "albums": len(as_list(legacy.getAlbumList2("alphabeticalByName", size=500)["albumList2"].get("album"))),
    }
    keyed = libopensonic.Connection(HOST, api_key=API_KEY, port=PORT, app_name="py-opensonic test")
    try:
        report["api_key"] = opensonic_run(keyed)
        # The queue the phone saved, picked up on the desktop.
        q = keyed.get_play_queue()
        report["api_key"]["play_queue"] = {
            "current": q.current,
            "position": q.position,
            "changed_by": q.changed_by,
            "entries": [e.id for e in (q.entry or [])],
        }
    finally:
        keyed.cleanup()
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
