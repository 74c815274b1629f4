#!/bin/sh
# check-install.sh: `make install` puts everything where Debian expects
# it (under a temporary DESTDIR), the installed sample configuration is
# valid and mode 640, the installed systemd unit names the installed
# programs and passes `systemd-analyze verify`, and `make uninstall`
# takes it all away again. Run by make check from the build directory.
set -u
builddir=${PAKN_BUILDDIR:-$PWD}
make=${MAKE:-make}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/root"
fail=0
say() { echo "check-install: $*" >&2; fail=1; }

if ! $make -s -C "$builddir" install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log" >&2
	say "make install failed"
	exit 1
fi
# One file found under DESTDIR by the end of its path, or a complaint.
find_one() {
	f=$(find "$dest" -path "*$1" | head -n 1)
	[ -n "$f" ] || say "nothing installed as .../$1"
	echo "$f"
}
paknd=$(find_one /sbin/paknd)
paknctl=$(find_one /bin/paknctl)
conf=$(find_one /pakn/paknd.conf)
unit=$(find_one /lib/systemd/system/paknd.service)
find_one /lib/sysusers.d/pakn.conf >/dev/null
find_one /share/man/man8/paknd.8 >/dev/null
find_one /share/man/man8/paknctl.8 >/dev/null
find_one /share/man/man5/paknd.conf.5 >/dev/null
find_one /share/doc/pakn/paknd.conf.sample >/dev/null
find_one /share/doc/pakn/units.sample.csv >/dev/null
find_one /share/doc/pakn/pakn.rules.yml >/dev/null
[ "$fail" = 0 ] || exit 1
[ -x "$paknd" ] && [ -x "$paknctl" ] || say "the programs are not executable"
mode=$(stat -c %a "$conf")
[ "$mode" = 640 ] || say "$conf has mode $mode, want 640"
"$paknd" -n -c "$conf" >"$tmp/n.out" 2>&1 || {
	cat "$tmp/n.out" >&2
	say "the installed configuration is not valid"
}
# The unit runs the installed programs with the installed configuration.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
want="${paknd#"$dest"} -f -c ${conf#"$dest"}"
[ "$exec_start" = "$want" ] || say "ExecStart=$exec_start, want $want"
grep -q '^LimitNOFILE=8192$' "$unit" || say "the unit lost LimitNOFILE=8192"
grep -q '^Type=notify$' "$unit" || say "the unit is not Type=notify"

# systemd-analyze verify on the unit with the paths under DESTDIR: any
# line it prints is a fault (it exits 0 on many of them).
if systemd-analyze --version >/dev/null 2>&1 &&
	printf '[Service]\nExecStart=/bin/true\n' >"$tmp/probe.service" &&
	systemd-analyze verify --man=no "$tmp/probe.service" >/dev/null 2>&1; then
	sed -e "s|=${paknd#"$dest"}|=$paknd|" -e "s|${conf#"$dest"}|$conf|g" \
		"$unit" >"$tmp/paknd.service"
	if ! systemd-analyze verify --man=no "$tmp/paknd.service" \
		>"$tmp/verify.out" 2>&1 || [ -s "$tmp/verify.out" ]; then
		cat "$tmp/verify.out" >&2
		say "systemd-analyze verify finds faults in paknd.service"
	fi
	verified=", unit verified"
else
	echo "check-install: systemd-analyze cannot run here: unit not verified" >&2
	verified=", unit NOT verified (no systemd-analyze)"
fi

$make -s -C "$builddir" uninstall DESTDIR="$dest" >"$tmp/uninstall.log" 2>&1 ||
	say "make uninstall failed"
left=$(find "$dest" -type f)
[ -z "$left" ] || say "make uninstall left: $left"
[ "$fail" = 0 ] && echo "check-install: installed and uninstalled$verified"
exit "$fail"
