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

/// An open object handle, closed on drop.
struct Handle(raw::TEE_ObjectHandle);

impl Drop for Handle {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: a handle we opened and still own.
            unsafe { raw::TEE_CloseObject(self.0) };
        }
    }
}

fn open(name: &str, flags: u32) -> Result<Option<Handle>, StoreError> {
    let mut h: raw::TEE_ObjectHandle = ptr::null_mut();
    // SAFETY: the ID buffer is valid for its length; `h` is an out-pointer.
    let res = unsafe {
        raw::TEE_OpenPersistentObject(
            raw::TEE_STORAGE_PRIVATE,
            name.as_ptr().cast(),
            name.len(),
            flags,
            &mut h,
        )
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
        let mut info: raw::TEE_ObjectInfo = unsafe { core::mem::zeroed() };
        // SAFETY: valid handle and out-pointer.
        let res = unsafe { raw::TEE_GetObjectInfo1(h.0, &mut info) };
        if res != raw::TEE_SUCCESS {
            return Err(map(res));
        }
        let mut data = alloc::vec![0u8; info.dataSize];
        let mut read = 0usize;
        if !data.is_empty() {
            // SAFETY: `data` is writable for its length; `read` is an out-pointer.
            let res = unsafe {
                raw::TEE_ReadObjectData(h.0, data.as_mut_ptr().cast(), data.len(), &mut read)
            };
            if res != raw::TEE_SUCCESS {
                return Err(map(res));
            }
            if read != data.len() {
                return Err(StoreError::Failure);
            }
        }
        Ok(Some(data))
    }

    fn put(&mut self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        check_name(name)?;
        let mut h: raw::TEE_ObjectHandle = ptr::null_mut();
        let flags = raw::TEE_DATA_FLAG_ACCESS_READ
            | raw::TEE_DATA_FLAG_ACCESS_WRITE
            | raw::TEE_DATA_FLAG_ACCESS_WRITE_META
            | raw::TEE_DATA_FLAG_OVERWRITE;
        // SAFETY: ID and data buffers are valid for their lengths; no
        // attributes (a pure data object); `h` is an out-pointer.
        let res = unsafe {
            raw::TEE_CreatePersistentObject(
                raw::TEE_STORAGE_PRIVATE,
                name.as_ptr().cast(),
                name.len(),
                flags,
                ptr::null_mut(),
                if data.is_empty() {
                    ptr::null()
                } else {
                    data.as_ptr().cast()
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
        let Some(mut h) = h else {
            return Ok(());
        };
        let raw_h = core::mem::replace(&mut h.0, ptr::null_mut());
        // SAFETY: closes and deletes the handle we own (even on error).
        let res = unsafe { raw::TEE_CloseAndDeletePersistentObject1(raw_h) };
        if res != raw::TEE_SUCCESS {
            return Err(map(res));
        }
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<String>, StoreError> {
        let mut e: raw::TEE_ObjectEnumHandle = ptr::null_mut();
        // SAFETY: out-pointer.
        let res = unsafe { raw::TEE_AllocatePersistentObjectEnumerator(&mut e) };
        if res != raw::TEE_SUCCESS {
            return Err(map(res));
        }
        struct Enum(raw::TEE_ObjectEnumHandle);
        impl Drop for Enum {
            fn drop(&mut self) {
                // SAFETY: an enumerator we allocated.
                unsafe { raw::TEE_FreePersistentObjectEnumerator(self.0) };
            }
        }
        let e = Enum(e);
        let mut names = Vec::new();
        // SAFETY: a valid enumerator.
        match unsafe { raw::TEE_StartPersistentObjectEnumerator(e.0, raw::TEE_STORAGE_PRIVATE) } {
            raw::TEE_SUCCESS => {}
            raw::TEE_ERROR_ITEM_NOT_FOUND => return Ok(names),
            err => return Err(map(err)),
        }
        loop {
            let mut info: raw::TEE_ObjectInfo = unsafe { core::mem::zeroed() };
            let mut id = [0u8; MAX_ID];
            let mut len = id.len();
            // SAFETY: valid enumerator, out-pointers and buffer.
            let res = unsafe {
                raw::TEE_GetNextPersistentObject(e.0, &mut info, id.as_mut_ptr().cast(), &mut len)
            };
            match res {
                raw::TEE_SUCCESS => {
                    if let Ok(n) = core::str::from_utf8(&id[..len.min(MAX_ID)]) {
                        names.push(String::from(n));
                    }
                }
                raw::TEE_ERROR_ITEM_NOT_FOUND => return Ok(names),
                err => return Err(map(err)),
            }
        }
    }
}
