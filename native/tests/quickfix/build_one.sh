#!/bin/sh
# Builds the QuickFIX program NAME.cpp (beside this script) into
# $CARGO_TARGET_DIR/quickfix-NAME/NAME (default native/target), again only when the source
# changed; prints the binary's path. Exits 77 when QuickFIX's headers are absent
# (apt-get install libquickfix-dev). Usage: build_one.sh NAME
set -eu
name=$1
here=$(cd "$(dirname "$0")" && pwd)
target=${CARGO_TARGET_DIR:-$here/../../target}
out=$target/quickfix-$name
[ -f /usr/include/quickfix/Session.h ] || { echo "libquickfix-dev is not installed" >&2; exit 77; }
mkdir -p "$out"
sum=$(sha256sum "$here/$name.cpp" | cut -d' ' -f1)
if [ ! -x "$out/$name" ] || [ "$(cat "$out/$name.sha256" 2>/dev/null)" != "$sum" ]; then
  tmp="$out/$name.tmp.$$"   # per process: concurrent builds each rename their own file
  c++ -std=gnu++14 -O2 -Wno-deprecated -Wno-deprecated-declarations -o "$tmp" \
    "$here/$name.cpp" -lquickfix -lpthread >&2
  mv -f "$tmp" "$out/$name"
  echo "$sum" > "$out/$name.sha256.$$" && mv -f "$out/$name.sha256.$$" "$out/$name.sha256"
fi
echo "$out/$name"
