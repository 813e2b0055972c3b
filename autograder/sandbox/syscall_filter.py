"""A seccomp filter refusing the kernel objects that outlive every process of a sandbox.

Kernel keyrings (add_key, request_key, keyctl) are kept per uid, not per namespace: a user
keyring or a persistent keyring lives on after the sandbox, a key with "other" permissions
is readable by any uid through /proc/keys, and a key can be locked so that not even root
can clear it. POSIX message queues (mq_open) of the rlimits level live in the host's IPC
namespace, and without /dev/mqueue mounted they cannot even be listed. Student code never
needs either, so every sandboxed process (bwrap, unshare and setpriv included: the filter is
installed before they start, and inherited) gets EPERM for them instead.

The filter is a classic BPF program over seccomp_data (nr at offset 0, arch at offset 4):
for each architecture the kernel may run the process as (the machine's own and its 32-bit
compat ABI), a refused system call number returns EPERM; everything else is allowed.
"""
import ctypes
import ctypes.util
import errno
import platform
import struct

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
# BPF opcodes: load a word at an absolute offset, jump if equal, AND, return a constant.
LD_ABS = 0x20
JEQ = 0x15
AND = 0x54
RET = 0x06
X32_SYSCALL_BIT = 0x40000000

REFUSED = ("add_key", "request_key", "keyctl", "mq_open")
# {machine: [(AUDIT_ARCH_*, syscall number mask, {name: number})]}: the native ABI first,
# then the compat ABI a process of that machine can also call (int 0x80, AArch32).
ABIS = {
    "x86_64": [(0xC000003E, ~X32_SYSCALL_BIT & 0xFFFFFFFF,   # x86_64 and x32 share numbers
                {"add_key": 248, "request_key": 249, "keyctl": 250, "mq_open": 240}),
               (0x40000003, 0xFFFFFFFF,
                {"add_key": 286, "request_key": 287, "keyctl": 288, "mq_open": 277})],
    "aarch64": [(0xC00000B7, 0xFFFFFFFF,
                 {"add_key": 217, "request_key": 218, "keyctl": 219, "mq_open": 180}),
                (0x40000028, 0xFFFFFFFF,
                 {"add_key": 309, "request_key": 310, "keyctl": 311, "mq_open": 274})],
}
ABIS["amd64"] = ABIS["x86_64"]
ABIS["arm64"] = ABIS["aarch64"]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def supported(machine=None):
    """Whether this machine's system call numbers are known (else no filter is installed)."""
    return (machine or platform.machine()).lower() in ABIS


def program(machine=None):
    """The filter's BPF instructions as bytes (struct sock_filter[]), or b'' if unsupported."""
    abis = ABIS.get((machine or platform.machine()).lower())
    if not abis:
        return b""
    code = []   # (opcode, jump if true, jump if false, constant)
    deny = SECCOMP_RET_ERRNO | errno.EPERM
    for arch, mask, numbers in abis:
        block = [(LD_ABS, 0, 0, 0)]
        if mask != 0xFFFFFFFF:
            block.append((AND, 0, 0, mask))
        refused = [numbers[name] for name in REFUSED]
        for index, number in enumerate(refused):
            # true: to the deny return just after the last comparison
            block.append((JEQ, len(refused) - index, 0, number))
        block += [(RET, 0, 0, SECCOMP_RET_ALLOW), (RET, 0, 0, deny)]
        # Not this arch: skip the whole block.
        code += [(LD_ABS, 0, 0, 4), (JEQ, 0, len(block), arch)] + block
    code.append((RET, 0, 0, SECCOMP_RET_ALLOW))
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in code)


class Filter:
    """The filter, built in the grader before fork, installed in the child by install()."""

    def __init__(self, machine=None):
        self._code = program(machine)
        self._buffer = ctypes.create_string_buffer(self._code, len(self._code) or 1)
        self._program = _Program(len(self._code) // 8, ctypes.addressof(self._buffer))
        self._libc = None
        if self._code:
            self._libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                                     use_errno=True)

    @property
    def active(self):
        return bool(self._code)

    def install(self, no_new_privs):
        """Install on the calling process (between fork and exec). Without CAP_SYS_ADMIN the
        kernel wants no_new_privs first; root (who starts bwrap, unshare or setpriv) does not
        need it. Raises OSError if the kernel refuses."""
        if not self._code:
            return
        if no_new_privs and self._libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if self._libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                            ctypes.byref(self._program), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
