#!/usr/bin/env bash
# Builds the release tarball dist/facefx-<version>-linux-x86_64.tar.xz (README "Install from the release
# tarball") on Debian 12 and prints its path on stdout (everything else goes to stderr):
#   bin/facefx               Swift stdlib static, DT_RPATH $ORIGIN/../lib
#   lib/                     FFmpeg's libraries and every library they load but the system's own
#   share/facefx/            Models/, Filters/
#   share/doc/facefx/        licenses/: the licence text of everything bundled (INDEX says whose)
#   INSTALL                  how to install and what the machine needs (from scripts/dist-INSTALL.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-dist   # a build of its own (static stdlib, RPATH), apart from .build's
# DT_RPATH, not the newer DT_RUNPATH: a RUNPATH serves only the executable's own NEEDED entries, an
# RPATH also every library loaded after it that has no RUNPATH of its own (all of Debian's), so
# libavcodec's dependencies are found in lib/ too.
swift build -c release --static-swift-stdlib --disable-local-rpath --product facefx --scratch-path "$scratch" \
  -Xlinker --disable-new-dtags -Xlinker -rpath -Xlinker '$ORIGIN/../lib' >&2
version=$("$scratch/release/facefx" --version)
name=facefx-$version-linux-x86_64
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
root=$stage/$name
mkdir -p "$root/bin" "$root/lib" "$root/share/facefx" "$root/share/doc/facefx/licenses"
cp "$scratch/release/facefx" "$root/bin/"
strip "$root/bin/facefx"
cp -r Models Filters "$root/share/facefx/"

# Every library the binary loads, by NEEDED entry, is bundled, except those scripts/dist-system-libraries.txt
# leaves to the system, whose own dependencies are the system's business. lib/ is still empty, so ldd
# says where this machine finds each one.
system=" $(grep -v '^#' scripts/dist-system-libraries.txt | paste -sd' ') "
env -u LD_LIBRARY_PATH ldd "$root/bin/facefx" >"$stage/ldd.txt"
declare -A path_of
while read -r soname path; do path_of[$soname]=$path; done < <(awk '$2 == "=>" { print $1, $3 }' "$stage/ldd.txt")
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
queue=("$root/bin/facefx")
while [ ${#queue[@]} -gt 0 ]; do
  for soname in $(needed "${queue[0]}"); do
    [[ $system == *" $soname "* || -e $root/lib/$soname ]] && continue
    [ "${path_of[$soname]:-not}" != not ] || { echo "dist: $soname not found" >&2; exit 1; }
    cp -L "${path_of[$soname]}" "$root/lib/$soname"
    queue+=("$root/lib/$soname")
  done
  queue=("${queue[@]:1}")
done

index=$root/share/doc/facefx/licenses/INDEX
{
  echo "Everything this tarball bundles, where it comes from and its licence text in this folder."
  echo "The libraries are Debian 12's, unmodified: their sources are the Debian source packages of"
  echo "these versions (apt-get source PACKAGE=VERSION, or https://snapshot.debian.org)."
  echo
  echo "bin/facefx: facefx, statically linked with the Swift runtime and Foundation (swift.LICENSE.txt),"
  echo "  swift-argument-parser (swift-argument-parser.LICENSE.txt) and Foundation's ICU 76"
  echo "  (swift-foundation-icu: the Unicode License v3, https://www.unicode.org/license.txt)."
  echo "share/facefx/Models: the networks; share/facefx/Models/SOURCES.md says where each comes from,"
  echo "  share/facefx/Models/licenses/ holds their licences. share/facefx/Filters: facefx's own art."
  echo
  printf '%-28s %-28s %s\n' "file" "Debian package" "version (licence: PACKAGE.copyright)"
} >"$index"
for lib in "$root"/lib/*; do
  soname=${lib##*/}
  # dpkg lists each file once, under /lib or /usr/lib (merged /usr): ask for the real file's name.
  real=$(readlink -f "${path_of[$soname]}")
  package=$(dpkg -S "*/${real##*/}" | awk -F': ' -v f="/${real##*/}" '!package && substr($2, length($2) - length(f) + 1) == f { package = $1 } END { print package }')
  package=${package%:amd64}
  cp -L "/usr/share/doc/$package/copyright" "$root/share/doc/facefx/licenses/$package.copyright"
  printf '%-28s %-28s %s\n' "lib/$soname" "$package" "$(dpkg-query -W -f='${Version}' "$package")" >>"$index"
done
cp "$(dirname "$(readlink -f "$(command -v swift)")")/../share/swift/LICENSE.txt" "$root/share/doc/facefx/licenses/swift.LICENSE.txt"
cp "$scratch/checkouts/swift-argument-parser/LICENSE.txt" "$root/share/doc/facefx/licenses/swift-argument-parser.LICENSE.txt"

# The newest glibc and libstdc++ symbol versions anything here needs: INSTALL states them.
newest() { objdump -T "$root/bin/facefx" "$root"/lib/* | grep -o "$1[0-9.]*[0-9]" | sort -V -u | tail -1; }
glibc=$(newest GLIBC_2.)
glibcxx=$(newest GLIBCXX_)
glibc_files=$(cd "$root" && for f in bin/facefx lib/*; do if objdump -T "$f" | grep -F "($glibc)" >/dev/null; then echo "$f"; fi; done | paste -sd' ')
sed -e "s|@VERSION@|$version|g" -e "s|@GLIBC@|${glibc#GLIBC_}|" -e "s|@GLIBC_FILES@|$glibc_files|g" \
    -e "s|@GLIBCXX@|$glibcxx|" scripts/dist-INSTALL.txt >"$root/INSTALL"

mkdir -p dist
# One xz block with a window as large as the whole tree (about 230 MB): the Swift runtime's ICU data in
# bin/facefx and lib/libicudata.so.72 are much alike, which the default 64 MiB window cannot see
# (5 MB less); the x86 filter turns call targets into absolute addresses that repeat (1.6 MB less).
# Unpacking needs 256 MiB of memory.
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -cf - "$name" |
  xz --x86 --lzma2=preset=9e,dict=256MiB >"dist/$name.tar.xz.part"
mv "dist/$name.tar.xz.part" "dist/$name.tar.xz"
echo "dist/$name.tar.xz: $(du -b "dist/$name.tar.xz" | cut -f1) bytes, $(du -sb "$root" | cut -f1) unpacked, $(ls "$root/lib" | wc -l) libraries" >&2
echo "$PWD/dist/$name.tar.xz"
