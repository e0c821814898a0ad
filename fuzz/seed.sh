#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>, not committed) from real files: MP4s that
# ffmpeg writes with and without an edit list and with iTunes' gapless tag, the M4A/M4B files in
# mutagen's test data when the tests have fetched it, playlists and names with awkward
# characters, and the Range headers players send.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/mp4 corpus/m3u8 corpus/pattern corpus/range
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if command -v ffmpeg >/dev/null; then
  ffmpeg -v error -y -f lavfi -i "sine=f=440:d=1" -c:a aac "$tmp/edit.m4a"
  ffmpeg -v error -y -f lavfi -i "sine=f=440:d=1" -c:a aac -use_editlist 0 "$tmp/noedit.m4a"
  ffmpeg -v error -y -f lavfi -i "sine=f=440:d=1" -c:a aac -movflags +faststart "$tmp/fast.m4a"
  ffmpeg -v error -y -f lavfi -i "sine=f=440:d=1" -c:a alac "$tmp/alac.m4a"
  # Only the boxes before the audio matter to the reader: keep seeds small.
  for f in "$tmp"/*.m4a; do head -c 4096 "$f" >"corpus/mp4/$(basename "$f")"; cp "$f" "corpus/mp4/full-$(basename "$f")"; done
fi
for f in ../target/test-data/mutagen-*/tests-data/*.m4[ab]; do
  [ -f "$f" ] && head -c 65536 "$f" >"corpus/mp4/mutagen-$(basename "$f")"
done
printf '#EXTM3U\n#EXTINF:215,Anna - Song\nMusic/Anna/01 Song.flac\n' >corpus/m3u8/basic
printf '\xef\xbb\xbf#EXTM3U\r\n  ./a b.mp3  \r\n#x\r\n100%%25 a%%0A.mp3\r\n' >corpus/m3u8/escaped
printf 'C:\\Music\\a.mp3\n/abs/path/\xe2\x98\x83.ogg\n%%23hash.mp3\n' >corpus/m3u8/paths
printf '{album_artist}/{album}/{track:02} {title}' >corpus/pattern/default
printf '{artist}/../{title}' >corpus/pattern/dots
printf 'CON/{title}.{year}' >corpus/pattern/device
printf '{disc}-{track:03}/{genre}/{title}' >corpus/pattern/numbers
for r in "bytes=0-" "bytes=0-1023" "bytes=-500" "bytes=100-99" "bytes=0-1,5-6" "bytes=99999999999999999999-"; do
  printf '%s' "$r" >"corpus/range/$(echo "$r" | tr -c 'a-z0-9' _)"
done
echo "seeded: $(ls corpus/mp4 | wc -l) mp4, $(ls corpus/m3u8 | wc -l) m3u8, $(ls corpus/pattern | wc -l) pattern, $(ls corpus/range | wc -l) range"
