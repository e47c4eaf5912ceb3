//! SIGINT and SIGTERM delivered to a thread: a handler that only writes the signal number
//! to a close-on-exec pipe (`write` is async-signal-safe), and a thread that reads it and
//! runs ordinary code. Hand-written rather than `signal-hook` (not in the dependency tree):
//! two syscalls and one `sigaction`.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use super::cvt;

static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = PIPE_WRITE.load(Ordering::Relaxed);
    if fd >= 0 {
        let b = sig as u8;
        // SAFETY: write(2) is async-signal-safe; `b` lives for the call; a full pipe or a
        // closed fd only makes the call fail, which is ignored.
        unsafe {
            libc::write(fd, (&b as *const u8).cast(), 1);
        }
    }
}

/// Install the handler for SIGINT and SIGTERM and return the read end of its pipe: each
/// signal becomes one byte (the signal number). Call once per process.
pub fn termination_pipe() -> io::Result<OwnedFd> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid two-element array for the kernel to fill.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) })?;
    // SAFETY: pipe2 succeeded, so both fds are open and owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // The read end blocks (the waiting thread sleeps in read); the write end stays
    // non-blocking so the handler can never hang.
    // SAFETY: fcntl on an fd we own.
    let flags = cvt(unsafe { libc::fcntl(fds[0], libc::F_GETFL) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fds[0], libc::F_SETFL, flags & !libc::O_NONBLOCK) })?;
    PIPE_WRITE.store(
        std::os::fd::IntoRawFd::into_raw_fd(write),
        Ordering::Relaxed,
    );
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid starting value; the handler is an
        // `extern "C" fn(c_int)` that only calls async-signal-safe functions.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            cvt(libc::sigaction(sig, &sa, std::ptr::null_mut()))?;
        }
    }
    Ok(read)
}

/// Put `sig`'s default action back and raise it: the process ends the way it would have
/// without the handler (the parent sees "killed by SIGTERM").
pub fn reraise(sig: libc::c_int) -> ! {
    // SAFETY: resetting a disposition to SIG_DFL and raising a signal are always valid.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
    // Only reached if the signal was blocked: end the way a shell reports a signal.
    #[allow(
        clippy::exit,
        reason = "the process is ending on a signal; nothing is left to unwind"
    )]
    std::process::exit(128 + sig)
}
