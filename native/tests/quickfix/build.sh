#!/bin/sh
# Builds the QuickFIX peer into $CARGO_TARGET_DIR/quickfix-peer (default native/target),
# again only when peer.cpp changed. Prints the binary's path; exits 77 when QuickFIX's
# headers are absent (apt-get install libquickfix-dev).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
target=${CARGO_TARGET_DIR:-$here/../../target}
out=$target/quickfix-peer
[ -f /usr/include/quickfix/Session.h ] || { echo "libquickfix-dev is not installed" >&2; exit 77; }
mkdir -p "$out"
sum=$(sha256sum "$here/peer.cpp" | cut -d' ' -f1)
if [ ! -x "$out/peer" ] || [ "$(cat "$out/peer.sha256" 2>/dev/null)" != "$sum" ]; then
  tmp="$out/peer.tmp.$$"   # per process: concurrent builds each rename their own file
  c++ -std=gnu++14 -O1 -Wno-deprecated -Wno-deprecated-declarations -o "$tmp" \
    "$here/peer.cpp" -lquickfix -lpthread >&2
  mv -f "$tmp" "$out/peer"
  echo "$sum" > "$out/peer.sha256.$$" && mv -f "$out/peer.sha256.$$" "$out/peer.sha256"
fi
echo "$out/peer"
