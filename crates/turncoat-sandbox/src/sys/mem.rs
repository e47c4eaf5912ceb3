//! Reading a stopped (seccomp-notified) process's memory with `process_vm_readv`.
//! Every read is bounded; the caller re-checks the notification id afterwards because the pid
//! may have died and been reused.

use std::io;

/// Read up to `buf.len()` bytes at `addr` in `pid`. Returns how many bytes were read (short at
/// an unmapped page).
pub fn read(pid: u32, addr: u64, buf: &mut [u8]) -> io::Result<usize> {
    if buf.is_empty() || addr == 0 {
        return Ok(0);
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: local iovec describes our own buffer; the remote one is only read by the kernel
    // with access checks on the target process.
    let r = unsafe { libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

const PAGE: u64 = 4096;

/// A NUL-terminated string at `addr`, at most `max` bytes, read page by page so a string that
/// ends just before an unmapped page is still read.
pub fn read_cstr(pid: u32, addr: u64, max: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < max {
        let in_page = (PAGE - (at % PAGE)) as usize;
        let want = in_page.min(max - out.len());
        let mut chunk = vec![0u8; want];
        let n = read(pid, at, &mut chunk)?;
        if n == 0 {
            break;
        }
        if let Some(z) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..z]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        // Hostile pointers may sit at the top of the address space.
        at = at.wrapping_add(n as u64);
    }
    Ok(out)
}

/// A NULL-terminated array of pointers (argv/envp), at most `max` entries.
pub fn read_ptr_array(pid: u32, addr: u64, max: usize) -> io::Result<Vec<u64>> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut buf = [0u8; 8 * 64];
    let mut at = addr;
    while out.len() < max {
        let n = read(pid, at, &mut buf)?;
        if n < 8 {
            break;
        }
        for c in buf[..n - n % 8].chunks_exact(8) {
            let p = u64::from_ne_bytes(c.try_into().unwrap_or([0; 8]));
            if p == 0 || out.len() >= max {
                return Ok(out);
            }
            out.push(p);
        }
        at = at.wrapping_add((n - n % 8) as u64);
    }
    Ok(out)
}
