//! `$AIMUX_HOME/run/aimux.lock`: a POSIX record lock held by the running supervisor. The kernel
//! drops it when the process dies however it dies, so a stale state file can never make aimux
//! believe it is still running, and `F_GETLK` names the holder's pid without taking the lock.

use std::fs::{File, OpenOptions};
use std::path::Path;

use anyhow::Context;

/// The held lock; released when dropped (or when the process exits).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

fn open(path: &Path) -> anyhow::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

#[cfg(unix)]
mod sys {
    use std::fs::File;
    use std::os::fd::AsRawFd;

    fn whole_file(kind: libc::c_int) -> libc::flock {
        // SAFETY: `flock` is a plain C struct for which all-zero bytes are a valid value.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = kind as _;
        fl.l_whence = libc::SEEK_SET as _;
        fl.l_start = 0;
        fl.l_len = 0;
        fl
    }

    /// `Ok(true)` when the write lock was taken.
    pub fn try_lock(file: &File) -> std::io::Result<bool> {
        let fl = whole_file(libc::F_WRLCK);
        // SAFETY: a valid fd and a pointer to a live `flock`.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &fl) };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EACCES) | Some(libc::EAGAIN) => Ok(false),
            _ => Err(err),
        }
    }

    /// The pid holding a conflicting lock, if any.
    pub fn holder(file: &File) -> std::io::Result<Option<u32>> {
        let mut fl = whole_file(libc::F_WRLCK);
        // SAFETY: a valid fd and a pointer to a live, writable `flock`.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut fl) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if fl.l_type as libc::c_int == libc::F_UNLCK {
            Ok(None)
        } else {
            Ok(Some(fl.l_pid as u32))
        }
    }
}

#[cfg(not(unix))]
mod sys {
    use std::fs::File;

    pub fn try_lock(_file: &File) -> std::io::Result<bool> {
        Ok(true)
    }

    pub fn holder(_file: &File) -> std::io::Result<Option<u32>> {
        Ok(None)
    }
}

/// Takes the lock, or returns the pid that holds it (0 when the OS does not say).
pub fn try_acquire(path: &Path) -> anyhow::Result<Result<Lock, u32>> {
    let file = open(path)?;
    if sys::try_lock(&file).with_context(|| format!("locking {}", path.display()))? {
        use std::io::Write;
        let mut f = &file;
        let _ = f.set_len(0);
        let _ = writeln!(f, "{}", std::process::id());
        return Ok(Ok(Lock { _file: file }));
    }
    let pid = sys::holder(&file).ok().flatten().unwrap_or(0);
    Ok(Err(pid))
}

/// The pid of the process holding the lock, without taking it.
pub fn holder(path: &Path) -> anyhow::Result<Option<u32>> {
    if !path.exists() {
        return Ok(None);
    }
    let file = open(path)?;
    sys::holder(&file).with_context(|| format!("querying the lock {}", path.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn free_lock_has_no_holder_and_can_be_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/aimux.lock");
        assert_eq!(holder(&path).unwrap(), None);
        // Another process sees the holder's pid (tested end to end). Careful: POSIX locks are
        // per process and dropped when the process closes ANY descriptor of the file, so the
        // supervisor never opens the lock file a second time.
        let lock = try_acquire(&path).unwrap().unwrap();
        drop(lock);
        assert!(try_acquire(&path).unwrap().is_ok());
    }
}
