# shellcheck shell=bash
# scripts/lib/common.sh: helpers shared by scripts/setup, scripts/run-vm and
# guest/mkinitramfs. Source it; it defines functions and a few variables:
#
#   HCASIM_ROOT   the source tree (parent of scripts/)
#   HCASIM_DEPS   project-local dependencies: $HCASIM_ROOT/.deps
#   QEMU_ROOT     the QEMU 11.1 root made by scripts/setup
#   GUEST_DEPS    extracted guest kernel and busybox
#   GUEST_KERNEL  the extracted kernel the guest_* helpers look at: Debian
#                 trixie's 6.12 (hcasim's own guests) unless a caller sets
#                 it to MLX5_KERNEL before sourcing or calling them
#   MLX5_KERNEL   trixie-backports' kernel, the ConnectX-5 model's guests
#   SID_ROOTFS    the guests' Debian sid userspace (scripts/setup)
#
# Nothing here writes outside the source tree, except into mktemp dirs.

# errexit also inside $(...)
shopt -s inherit_errexit

# shellcheck disable=SC2034 # used by the scripts that source this file
HCASIM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck disable=SC2034
HCASIM_DEPS=$HCASIM_ROOT/.deps
QEMU_ROOT=$HCASIM_DEPS/qemu
GUEST_DEPS=$HCASIM_DEPS/guest
# shellcheck disable=SC2034
MLX5_KERNEL=$GUEST_DEPS/mlx5-kernel
GUEST_KERNEL=${GUEST_KERNEL:-$GUEST_DEPS/kernel}
# shellcheck disable=SC2034
SID_ROOTFS=$GUEST_DEPS/sid-rootfs
# shellcheck disable=SC2034
HCASIM_STAMPS=$HCASIM_DEPS/stamps
# hcasim_irq.ko, the guest's MSI-X path (scripts/setup's guest-kmod step)
# shellcheck disable=SC2034
GUEST_KMOD=$GUEST_DEPS/kmod/hcasim_irq.ko

# die MESSAGE...: print "<prog>: error: MESSAGE" to stderr and exit with
# status HCASIM_DIE_STATUS (default 1).
die() {
    printf '%s: error: %s\n' "${HCASIM_PROG:-hcasim}" "$*" >&2
    exit "${HCASIM_DIE_STATUS:-1}"
}

# warn MESSAGE...: print a warning to stderr.
warn() {
    printf '%s: warning: %s\n' "${HCASIM_PROG:-hcasim}" "$*" >&2
}

# note MESSAGE...: print an informational line to stderr.
note() {
    printf '%s: %s\n' "${HCASIM_PROG:-hcasim}" "$*" >&2
}

# hcasim_build_dir: the meson build dir (absolute), from HCASIM_BUILD_DIR
# (relative paths are taken from the source root), default "build".
hcasim_build_dir() {
    local d=${HCASIM_BUILD_DIR:-build}
    case $d in
        /*) ;;
        *) d=$HCASIM_ROOT/$d ;;
    esac
    printf '%s\n' "$d"
}

# debian_mirror: the Debian archive URI configured for this machine's apt
# (never hard-coded). deb822 files in sources.list.d first, then
# sources.list. Security and third-party archives are skipped: the first
# URI that serves a plain Debian suite (e.g. "bookworm") wins.
debian_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        uri=$(awk '
            function flush() {
                if (uri != "" && suites ~ /(^|[ \t])(bookworm|trixie|forky|sid|stable|testing|unstable)([ \t]|$)/ &&
                    types ~ /deb([ \t]|$)/ && enabled != "no") { print uri; found = 1; exit }
                uri = ""; suites = ""; types = ""; enabled = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]*#/ { next }
            tolower($1) == "uris:"    { uri = $2 }
            tolower($1) == "suites:"  { $1 = ""; suites = $0 }
            tolower($1) == "types:"   { $1 = ""; types = $0 }
            tolower($1) == "enabled:" { enabled = tolower($2) }
            END { if (!found) flush() }
        ' "$f")
        if [[ -n $uri ]]; then
            printf '%s\n' "${uri%/}"
            return 0
        fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $f ]] || continue
        # deb [options] URI suite components...
        uri=$(awk '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                suite = $(i + 1)
                if (suite ~ /^(bookworm|trixie|forky|sid|stable|testing|unstable)$/) { print $i; exit }
            }' "$f")
        if [[ -n $uri ]]; then
            printf '%s\n' "${uri%/}"
            return 0
        fi
    done
    return 1
}

# local_apt_init NAME SUITE...: a project-local apt configuration in
# $HCASIM_DEPS/apt/NAME (own sources list, state and cache dirs) serving
# SUITE... (main) from the host's Debian mirror. The host's apt state is
# never touched. Prints the path of the config file (use as APT_CONFIG).
local_apt_init() {
    local name=$1
    shift
    local dir=$HCASIM_DEPS/apt/$name mirror suite
    mirror=$(debian_mirror) || die "no Debian archive URI found in the apt sources of this machine"
    mkdir -p "$dir/etc/sources.list.d" "$dir/etc/preferences.d" \
        "$dir/state/lists/partial" "$dir/cache/archives/partial"
    [[ -e $dir/state/status ]] || : >"$dir/state/status"
    {
        for suite in "$@"; do
            printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$mirror" "$suite"
        done
    } >"$dir/etc/sources.list.new"
    mv "$dir/etc/sources.list.new" "$dir/etc/sources.list"
    cat >"$dir/etc/apt.conf.new" <<EOF
// generated by scripts/lib/common.sh: project-local apt for "$name"
Dir::State "$dir/state";
Dir::State::status "$dir/state/status";
Dir::Cache "$dir/cache";
Dir::Etc::SourceList "$dir/etc/sources.list";
Dir::Etc::SourceParts "$dir/etc/sources.list.d";
Dir::Etc::Preferences "$dir/etc/preferences";
Dir::Etc::PreferencesParts "$dir/etc/preferences.d";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Sandbox::User "root";
Acquire::Check-Valid-Until "false";
Acquire::Languages "none";
#clear APT::Update::Post-Invoke-Success;
#clear APT::Update::Post-Invoke;
#clear DPkg::Post-Invoke;
EOF
    mv "$dir/etc/apt.conf.new" "$dir/etc/apt.conf"
    printf '%s\n' "$dir/etc/apt.conf"
}

# local_apt CONF apt-command ARGS...: run apt-get/apt-cache with CONF.
local_apt() {
    local conf=$1
    shift
    APT_CONFIG=$conf "$@"
}

# qemu_bin: path of the project-local qemu-system-x86_64.
qemu_bin() {
    printf '%s\n' "$QEMU_ROOT/usr/bin/qemu-system-x86_64"
}

# qemu_run ARGS...: run the project-local QEMU 11.1 through its own dynamic
# loader and libraries (no chroot), with its firmware search paths.
qemu_run() {
    local root=$QEMU_ROOT
    local ld=$root/usr/lib64/ld-linux-x86-64.so.2
    [[ -x $ld && -x $root/usr/bin/qemu-system-x86_64 ]] ||
        die "QEMU is not installed in .deps/qemu: run scripts/setup"
    QEMU_MODULE_DIR=$root/usr/lib/x86_64-linux-gnu/qemu \
        "$ld" --library-path "$root/usr/lib/x86_64-linux-gnu:$root/usr/lib" \
        "$root/usr/bin/qemu-system-x86_64" \
        -L "$root/usr/share/qemu" -L "$root/usr/share/seabios" "$@"
}

# qemu_exec ARGS...: like qemu_run, but replaces the shell.
qemu_exec() {
    local root=$QEMU_ROOT
    local ld=$root/usr/lib64/ld-linux-x86-64.so.2
    [[ -x $ld && -x $root/usr/bin/qemu-system-x86_64 ]] ||
        die "QEMU is not installed in .deps/qemu: run scripts/setup"
    QEMU_MODULE_DIR=$root/usr/lib/x86_64-linux-gnu/qemu \
        exec "$ld" --library-path "$root/usr/lib/x86_64-linux-gnu:$root/usr/lib" \
        "$root/usr/bin/qemu-system-x86_64" \
        -L "$root/usr/share/qemu" -L "$root/usr/share/seabios" "$@"
}

# guest_kernel_release: the release (e.g. 6.12.48+deb13-amd64) of the
# kernel extracted in $GUEST_KERNEL.
guest_kernel_release() {
    local d m
    for d in "$GUEST_KERNEL/usr/lib/modules" "$GUEST_KERNEL/lib/modules"; do
        [[ -d $d ]] || continue
        for m in "$d"/*/; do
            [[ -d $m ]] && { basename "$m"; return 0; }
        done
    done
    return 1
}

# guest_vmlinuz: path of the kernel image in $GUEST_KERNEL: /boot/vmlinuz-<rel>
# (6.12's packages), or vmlinuz in the modules directory (Debian's 7.x
# packages).
guest_vmlinuz() {
    local rel f
    rel=$(guest_kernel_release) || return 1
    for f in "$GUEST_KERNEL/boot/vmlinuz-$rel" "$GUEST_KERNEL/usr/lib/modules/$rel/vmlinuz"; do
        [[ -f $f ]] && { printf '%s\n' "$f"; return 0; }
    done
    return 1
}

# guest_modules_dir: /lib/modules/<release> of the kernel in $GUEST_KERNEL.
guest_modules_dir() {
    local rel d
    rel=$(guest_kernel_release) || return 1
    for d in "$GUEST_KERNEL/usr/lib/modules/$rel" "$GUEST_KERNEL/lib/modules/$rel"; do
        [[ -d $d ]] && { printf '%s\n' "$d"; return 0; }
    done
    return 1
}

# sh_quote ARG: ARG quoted for any POSIX shell (busybox ash included).
sh_quote() {
    local s=${1//\'/\'\\\'\'}
    printf "'%s'" "$s"
}

# guest_busybox: path of the extracted static busybox binary.
guest_busybox() {
    local b
    for b in "$GUEST_DEPS/busybox/usr/bin/busybox" "$GUEST_DEPS/busybox/bin/busybox"; do
        [[ -x $b ]] && { printf '%s\n' "$b"; return 0; }
    done
    return 1
}

# shell_words ARG...: the arguments as one line a shell would read back,
# quoting only those that need it (for messages).
shell_words() {
    local a out=""
    for a in "$@"; do
        if [[ -n $a && $a =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then
            out+="${out:+ }$a"
        else
            out+="${out:+ }$(sh_quote "$a")"
        fi
    done
    printf '%s\n' "$out"
}

# usage: print the calling script's header comment (from line 2 up to its
# `set -euo` line), without the leading "# ".
usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

# need_arg OPTION COUNT: fail if OPTION has no value (COUNT is $# where
# OPTION is $1).
need_arg() {
    [[ $2 -ge 2 ]] || die "$1 needs a value (see --help)"
}

# on_signal SIG CODE: trap 'on_signal INT 130' INT (and TERM 143): says
# what it stops ($STOPPING), runs the script's cleanup, exits with CODE.
# shellcheck disable=SC2317 # called from traps
on_signal() {
    trap '' INT TERM
    note "caught SIG$1: stopping ${STOPPING:-everything}"
    cleanup
    trap - EXIT
    exit "$2"
}
