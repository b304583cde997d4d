//! seam-core's `Store` over OP-TEE persistent objects in TEE_STORAGE_PRIVATE
//! (the TA's own namespace; REE FS here, RPMB where a device has it).
//!
//! `put` is one TEE_CreatePersistentObject with TEE_DATA_FLAG_OVERWRITE and
//! the data as initial content: OP-TEE commits the new object and replaces
//! the old one in a single update of its directory file, so after a power cut
//! the store holds the old value or the new one, never a mix.

use alloc::string::String;
use alloc::vec::Vec;
use core::ptr;

use optee_utee::raw;
use seam_core::{Store, StoreError};

pub struct TeeStore;

/// GlobalPlatform's limit on object IDs.
const MAX_ID: usize = raw::TEE_OBJECT_ID_MAX_LEN as usize;

fn map(res: raw::TEE_Result) -> StoreError {
    match res {
        raw::TEE_ERROR_CORRUPT_OBJECT | raw::TEE_ERROR_CORRUPT_OBJECT_2 => StoreError::Corrupt,
        raw::TEE_ERROR_STORAGE_NO_SPACE | raw::TEE_ERROR_OUT_OF_MEMORY => StoreError::Full,
        _ => StoreError::Failure,
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > MAX_ID {
        return Err(StoreError::Failure);
    }
    Ok(())
}

/// OP-TEE's storage system calls, below libutee's TEE_* wrappers. The
/// wrappers panic the TA on any result GlobalPlatform does not list for
/// the function (TEE_Panic), and a storage RPC to tee-supplicant fails
/// with TEE_ERROR_COMMUNICATION when the calling process is killed while
/// the TA waits on it (Linux's optee driver waits for the supplicant
/// killably): one client killing its own process mid-call would then take
/// the single-instance TA, and every stakeholder's handshakes, down. The
/// system calls return the error instead, which becomes StorageFailure for
/// that one request. (Found by `cargo optee stress`.)
mod sys {
    use optee_utee::raw::TEE_Result;

    /// libutee's `struct utee_object_info` (utee_types.h).
    #[repr(C)]
    #[derive(Default)]
    pub struct ObjectInfo {
        pub obj_type: u32,
        pub obj_size: u32,
        pub max_obj_size: u32,
        pub obj_usage: u32,
        pub data_size: u32,
        pub data_pos: u32,
        pub handle_flags: u32,
    }

    extern "C" {
        pub fn _utee_storage_obj_open(
            storage_id: usize,
            object_id: *const u8,
            object_id_len: usize,
            flags: usize,
            obj: *mut u32,
        ) -> TEE_Result;
        pub fn _utee_storage_obj_create(
            storage_id: usize,
            object_id: *const u8,
            object_id_len: usize,
            flags: usize,
            attr: usize,
            data: *const u8,
            len: usize,
            obj: *mut u32,
        ) -> TEE_Result;
        pub fn _utee_storage_obj_del(obj: usize) -> TEE_Result;
        pub fn _utee_storage_obj_read(
            obj: usize,
            data: *mut u8,
            len: usize,
            count: *mut u64,
        ) -> TEE_Result;
        pub fn _utee_cryp_obj_get_info(obj: usize, info: *mut ObjectInfo) -> TEE_Result;
        pub fn _utee_cryp_obj_close(obj: usize) -> TEE_Result;
        pub fn _utee_storage_alloc_enum(obj_enum: *mut u32) -> TEE_Result;
        pub fn _utee_storage_free_enum(obj_enum: usize) -> TEE_Result;
        pub fn _utee_storage_start_enum(obj_enum: usize, storage_id: usize) -> TEE_Result;
        pub fn _utee_storage_next_enum(
            obj_enum: usize,
            info: *mut ObjectInfo,
            obj_id: *mut u8,
            len: *mut u64,
        ) -> TEE_Result;
    }
}

const STORAGE: usize = raw::TEE_STORAGE_PRIVATE as usize;

/// An open object handle, closed on drop.
struct Handle(u32);

impl Drop for Handle {
    fn drop(&mut self) {
        if self.0 != 0 {
            // SAFETY: a handle we opened and still own. A failure to close
            // (an RPC cut short) leaves nothing for us to do.
            let _ = unsafe { sys::_utee_cryp_obj_close(self.0 as usize) };
        }
    }
}

fn open(name: &str, flags: u32) -> Result<Option<Handle>, StoreError> {
    let mut h = 0u32;
    // SAFETY: the ID buffer is valid for its length; `h` is an out-pointer.
    let res = unsafe {
        sys::_utee_storage_obj_open(STORAGE, name.as_ptr(), name.len(), flags as usize, &mut h)
    };
    match res {
        raw::TEE_SUCCESS => Ok(Some(Handle(h))),
        raw::TEE_ERROR_ITEM_NOT_FOUND => Ok(None),
        e => Err(map(e)),
    }
}

impl Store for TeeStore {
    fn get(&mut self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_name(name)?;
        let Some(h) = open(
            name,
            raw::TEE_DATA_FLAG_ACCESS_READ | raw::TEE_DATA_FLAG_SHARE_READ,
        )?
        else {
            return Ok(None);
        };
        let mut info = sys::ObjectInfo::default();
        // SAFETY: valid handle and out-pointer.
        let res = unsafe { sys::_utee_cryp_obj_get_info(h.0 as usize, &mut info) };
        if res != raw::TEE_SUCCESS {
            return Err(map(res));
        }
        // Fallible, like the request copy: no record read aborts the TA.
        let mut data = Vec::new();
        data.try_reserve_exact(info.data_size as usize)
            .map_err(|_| StoreError::Failure)?;
        data.resize(info.data_size as usize, 0);
        if !data.is_empty() {
            let mut read = 0u64;
            // SAFETY: `data` is writable for its length; `read` is an out-pointer.
            let res = unsafe {
                sys::_utee_storage_obj_read(h.0 as usize, data.as_mut_ptr(), data.len(), &mut read)
            };
            if res != raw::TEE_SUCCESS {
                return Err(map(res));
            }
            if read != data.len() as u64 {
                return Err(StoreError::Failure);
            }
        }
        Ok(Some(data))
    }

    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        check_name(name)?;
        let mut h = 0u32;
        let flags = raw::TEE_DATA_FLAG_ACCESS_READ
            | raw::TEE_DATA_FLAG_ACCESS_WRITE
            | raw::TEE_DATA_FLAG_ACCESS_WRITE_META
            | raw::TEE_DATA_FLAG_OVERWRITE;
        // SAFETY: ID and data buffers are valid for their lengths; no
        // attributes (TEE_HANDLE_NULL: a pure data object); `h` is an
        // out-pointer.
        let res = unsafe {
            sys::_utee_storage_obj_create(
                STORAGE,
                name.as_ptr(),
                name.len(),
                flags as usize,
                0,
                if data.is_empty() {
                    ptr::null()
                } else {
                    data.as_ptr()
                },
                data.len(),
                &mut h,
            )
        };
        if res != raw::TEE_SUCCESS {
            return Err(map(res));
        }
        drop(Handle(h));
        Ok(())
    }

    fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        check_name(name)?;
        let flags = raw::TEE_DATA_FLAG_ACCESS_WRITE_META;
        // OP-TEE removes an object it finds corrupt while opening it, so a
        // second attempt sees it gone.
        let h = match open(name, flags) {
            Err(StoreError::Corrupt) => open(name, flags)?,
            other => other?,
        };
        let Some(h) = h else {
            return Ok(());
        };
        // The system call closes the handle too, whatever it returns.
        let raw_h = h.0;
        core::mem::forget(h);
        // SAFETY: deletes (and closes) a handle we own.
        let res = unsafe { sys::_utee_storage_obj_del(raw_h as usize) };
        if res != raw::TEE_SUCCESS {
            return Err(map(res));
        }
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<String>, StoreError> {
        let mut e = 0u32;
        // SAFETY: out-pointer.
        let res = unsafe { sys::_utee_storage_alloc_enum(&mut e) };
        if res != raw::TEE_SUCCESS {
            return Err(map(res));
        }
        struct Enum(u32);
        impl Drop for Enum {
            fn drop(&mut self) {
                // SAFETY: an enumerator we allocated.
                let _ = unsafe { sys::_utee_storage_free_enum(self.0 as usize) };
            }
        }
        let e = Enum(e);
        let mut names = Vec::new();
        // SAFETY: a valid enumerator.
        match unsafe { sys::_utee_storage_start_enum(e.0 as usize, STORAGE) } {
            raw::TEE_SUCCESS => {}
            raw::TEE_ERROR_ITEM_NOT_FOUND => return Ok(names),
            err => return Err(map(err)),
        }
        loop {
            let mut info = sys::ObjectInfo::default();
            let mut id = [0u8; MAX_ID];
            let mut len = id.len() as u64;
            // SAFETY: valid enumerator, out-pointers and buffer.
            let res = unsafe {
                sys::_utee_storage_next_enum(e.0 as usize, &mut info, id.as_mut_ptr(), &mut len)
            };
            match res {
                raw::TEE_SUCCESS => {
                    let len = (len as usize).min(MAX_ID);
                    if let Ok(n) = core::str::from_utf8(&id[..len]) {
                        names.push(String::from(n));
                    }
                }
                raw::TEE_ERROR_ITEM_NOT_FOUND => return Ok(names),
                err => return Err(map(err)),
            }
        }
    }
}
