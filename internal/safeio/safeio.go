// Package safeio opens and reads the files a user names (inputs, models, the
// ONNX Runtime library, a --resume file) so that none of them can block a run
// forever or grow its memory without bound: only regular files on a real file
// system are opened, reads are capped in size, and a read that makes no
// progress for too long, or whose context ends, fails instead of hanging.
package safeio

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// kernelFS are the file systems whose "regular" files are kernel interfaces:
// a read of /proc/kmsg blocks until the kernel logs something, and sysfs or
// debugfs attributes can block, report a size of 4096 for any length, or act
// on being read. Their files are refused as if they were devices. The check
// is on the file system's magic, not on the path: a link inside a photo
// folder, or procfs mounted elsewhere, reaches the same files.
var kernelFS = map[int64]string{
	unix.PROC_SUPER_MAGIC:    "procfs",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.SECURITYFS_MAGIC:    "securityfs",
	unix.CGROUP_SUPER_MAGIC:  "cgroupfs",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2fs",
	unix.BPF_FS_MAGIC:        "bpffs",
	unix.EFIVARFS_MAGIC:      "efivarfs",
	unix.PSTOREFS_MAGIC:      "pstore",
	unix.SELINUX_MAGIC:       "selinuxfs",
	unix.SMACK_MAGIC:         "smackfs",
	unix.BINFMTFS_MAGIC:      "binfmt_misc",
	unix.NSFS_MAGIC:          "nsfs",
	unix.DEVPTS_SUPER_MAGIC:  "devpts",
	unix.PIPEFS_MAGIC:        "pipefs",
	unix.SOCKFS_MAGIC:        "sockfs",
	unix.ANON_INODE_FS_MAGIC: "anon_inodefs",
	0x62656570:               "configfs", // CONFIGFS_MAGIC, not in x/sys
	0x65735543:               "fusectl",  // FUSE_CTL_SUPER_MAGIC
}

// errNotRegular is wrapped by every refusal of a file that is not a regular
// file on a real file system.
var errNotRegular = fmt.Errorf("not a regular file")

// Check returns path's file information if it is a regular file on a real
// file system (following links, as opening it would), and says what it is
// otherwise. Nothing is opened: opening a FIFO blocks, and opening a device
// can have effects of its own.
func Check(path string) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(st.Mode()); err != nil {
		return nil, err
	}
	if err := onRealFS(path); err != nil {
		return nil, err
	}
	return st, nil
}

// onRealFS refuses a path on a kernel file system (procfs, sysfs, ...).
func onRealFS(path string) error {
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil {
		return &fs.PathError{Op: "statfs", Path: path, Err: err}
	}
	return realFS(sfs)
}

// Open opens path for reading if Check passes. The open is non-blocking and
// the checks are made again on the open file, in case the path was swapped
// for a FIFO or a link into /proc in between.
func Open(path string) (*os.File, error) {
	return open(path, os.O_RDONLY)
}

// OpenNoFollow is Open for a file that is also written (--resume's): it
// refuses a symbolic link at path, or a file with more than one hard link,
// so that a link planted there cannot redirect the writes (or the cut of a
// torn last row) to another file, and creates the file if it is missing.
func OpenNoFollow(path string) (*os.File, error) {
	st, err := os.Lstat(path)
	if err == nil {
		if st.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%w: a symbolic link (never followed here, so that it cannot redirect what is written)", errNotRegular)
		}
		if err := regular(st.Mode()); err != nil {
			return nil, err
		}
		// A file of /proc or /sys is refused before it is opened for writing.
		if err := onRealFS(path); err != nil {
			return nil, err
		}
	}
	f, err := open(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW)
	if err != nil {
		return nil, err
	}
	// Checked on the open file, so that a link made after the Lstat counts.
	if st, err := f.Stat(); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Nlink > 1 {
			f.Close()
			return nil, fmt.Errorf("a file with %d hard links (refused, so that writing it cannot change what another name holds)", sys.Nlink)
		}
	}
	return f, nil
}

func open(path string, flag int) (*os.File, error) {
	if flag&os.O_CREATE == 0 {
		if _, err := Check(path); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, flag|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		if flag&syscall.O_NOFOLLOW != 0 && isLoop(err) {
			return nil, fmt.Errorf("%w: a symbolic link (never followed here, so that it cannot redirect what is written)", errNotRegular)
		}
		return nil, err
	}
	if err := checkOpen(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkOpen checks an open file as Check checks a path.
func checkOpen(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := regular(st.Mode()); err != nil {
		return err
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sfs); err != nil {
		return &fs.PathError{Op: "fstatfs", Path: f.Name(), Err: err}
	}
	return realFS(sfs)
}

func isLoop(err error) bool {
	pe, ok := err.(*fs.PathError)
	return ok && pe.Err == syscall.ELOOP
}

func realFS(sfs unix.Statfs_t) error {
	if name, ok := kernelFS[int64(sfs.Type)]; ok {
		return fmt.Errorf("%w: a file of %s, a kernel interface whose reads can block forever", errNotRegular, name)
	}
	return nil
}

// regular says what a non-regular file is, in the words ls would use.
func regular(m fs.FileMode) error {
	kind := ""
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		kind = "a folder"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	default:
		return errNotRegular
	}
	return fmt.Errorf("%w: %s", errNotRegular, kind)
}
