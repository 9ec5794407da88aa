#!/usr/bin/env python3
"""Marks one symbol-version requirement of an ELF shared library weak (VER_FLG_WEAK in its Vernaux entry in
.gnu.version_r), in place, so the dynamic loader no longer refuses the library when the version is missing.

TorchSharp's glue library libLibTorchSharp.so asks for GLIBCXX_3.4.32, which Debian 12's libstdc++ lacks. The only
symbol behind that version is std::ios_base_library_init, a link-time marker that nothing calls, so the library
works unchanged once the requirement is weak. Run it on the COPY in a build's output folder, never on the package
cache: the file is rewritten through a temporary file and a rename, so even a hard link to the cache stays untouched.

    python3 bench/weaken_glibcxx_requirement.py LIBRARY [VERSION]     (VERSION defaults to GLIBCXX_3.4.32)

Prints what it did; exit 0 when the requirement is weak afterwards (or absent), 1 on an unreadable or non-ELF64 file.
"""
import os
import struct
import sys
import tempfile

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def section_headers(data):
    """(type, offset, size, link) of every section of a little-endian ELF64 file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a little-endian 64-bit ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        base = shoff + i * shentsize
        _name, kind, _flags, _addr, offset, size, link = struct.unpack_from("<IIQQQQI", data, base)
        yield kind, offset, size, link


def c_string(data, offset):
    return data[offset:data.index(b"\0", offset)].decode("ascii", "replace")


def weaken(data, version):
    """Sets VER_FLG_WEAK on every Vernaux entry naming `version`; returns (entries found, entries changed)."""
    sections = list(section_headers(data))
    found = changed = 0
    for kind, offset, _size, link in sections:
        if kind != SHT_GNU_VERNEED:
            continue
        strings = sections[link][1]
        need = offset
        while True:
            _vn_version, vn_cnt, _vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", data, need)
            aux = need + vn_aux
            for _ in range(vn_cnt):
                _hash, flags, _other, name, vna_next = struct.unpack_from("<IHHII", data, aux)
                if c_string(data, strings + name) == version:
                    found += 1
                    if not flags & VER_FLG_WEAK:
                        struct.pack_into("<H", data, aux + 4, flags | VER_FLG_WEAK)
                        changed += 1
                aux += vna_next
            if vn_next == 0:
                break
            need += vn_next
    return found, changed


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: weaken_glibcxx_requirement.py LIBRARY [VERSION]", file=sys.stderr)
        return 2
    path = sys.argv[1]
    version = sys.argv[2] if len(sys.argv) == 3 else "GLIBCXX_3.4.32"
    try:
        with open(path, "rb") as f:
            data = bytearray(f.read())
        found, changed = weaken(data, version)
    except (OSError, ValueError, struct.error, IndexError) as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 1
    if changed:
        directory = os.path.dirname(os.path.abspath(path))
        with tempfile.NamedTemporaryFile(dir=directory, delete=False) as f:
            f.write(data)
        os.chmod(f.name, os.stat(path).st_mode)
        os.replace(f.name, path)
    state = "no such requirement" if not found else f"{changed} of {found} requirement(s) made weak" if changed else "already weak"
    print(f"{os.path.basename(path)}: {version}: {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
