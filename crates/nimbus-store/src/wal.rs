//! The write-ahead log: one record per committed group, made durable with one
//! `fdatasync` before the group becomes visible. It lives in two files,
//! `<dir>/wal` and `<dir>/wal.1`, used in turn: each checkpoint starts a new
//! *generation* in the other file, so records keep being appended while the
//! checkpoint's fsync runs in the background (see `db_file`), and the old
//! generation stays on disk until that checkpoint is durable.
//!
//! # Format
//!
//! A file starts with a 32-byte generation header, `magic[8] salt:u64
//! zero[12] crc:u32`, where `crc` is the CRC-32 of the 28 bytes before it and
//! `salt` is random, fresh for every generation. Records follow back to back:
//! `len:u64 seq:u64 crc:u32 payload[len]`, little-endian, where `crc` is the
//! CRC-32 of the generation's salt, `len`, `seq` and the payload, and the
//! payload is the group's redo ops (see `redo`).
//!
//! # Invariants
//!
//! - **Durable means synced.** A record is durable once `sync` returns after
//!   it was appended; the writer acknowledges no call of a group before that.
//!   The generation header is written before the generation's first record,
//!   so the sync that makes any record durable makes its header durable too.
//! - **Sequence numbers** start at 1, grow by one per record across
//!   generations and files, and are never reused once durable: after a
//!   checkpoint at `seq` the next record is `seq + 1`.
//! - **Only the current generation validates.** A new generation reuses its
//!   file without truncating it, so stale bytes of older generations follow
//!   the live records, and a record's payload may hold anything (a binary key
//!   can look exactly like a record). Every record's checksum covers its
//!   generation's salt, so bytes written under another salt fail it, except
//!   by a 2^-32 accident, and cannot extend the live chain; the salt is
//!   random, so no payload can be crafted to match a future generation.
//! - **The valid log of a file** ([`read_log`]) is its header's generation:
//!   the longest chain after the header of complete records with correct
//!   checksums and consecutive sequence numbers. Anything after it (a torn or
//!   unsynced append, zeros, stale records) was never acknowledged. A file
//!   whose header is missing or damaged holds no records.
//! - **A file is reused only once its generation is checkpointed durably**
//!   (the writer's job): so the two files together always hold every record
//!   after the durable checkpoint, and the inactive one only records up to
//!   the checkpoint that ended its generation. Recovery merges both by
//!   sequence number. Once that checkpoint is durable, the inactive file's
//!   first record header is zeroed (unsynced), only to spare the next open
//!   from reading records it would skip.
//! - **No size changes on the hot path.** Each file is grown in zero-filled
//!   chunks ahead of the records, so appends usually overwrite allocated,
//!   written blocks and `fdatasync` has no metadata to journal.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::dir_lock::sync_dir;
use crate::StoreError;

/// The log's two files, used in turn, one generation each.
pub(crate) const WAL_FILES: [&str; 2] = ["wal", "wal.1"];
/// The file the first generation after opening goes to.
#[cfg(test)]
pub(crate) const WAL_FILE: &str = WAL_FILES[0];
/// A record's header.
pub(crate) const HEADER_BYTES: usize = 20;
/// A file's generation header.
pub(crate) const FILE_HEADER_BYTES: usize = 32;
const MAGIC: &[u8; 8] = b"nimbWAL2";

/// The file grows by its own size, within these bounds, whenever a record
/// would not fit.
const MIN_GROW: u64 = 256 * 1024;
const MAX_GROW: u64 = 8 * 1024 * 1024;

/// Starts a record in `buf`: header space, to be filled in by `Wal::append`;
/// the caller appends the payload.
pub(crate) fn begin_record(buf: &mut Vec<u8>) {
    buf.clear();
    buf.resize(HEADER_BYTES, 0);
}

/// Fills in the header of a record begun with [`begin_record`], for the
/// generation salted `salt`.
pub(crate) fn seal_record(buf: &mut [u8], seq: u64, salt: u64) {
    let len = (buf.len() - HEADER_BYTES) as u64;
    buf[0..8].copy_from_slice(&len.to_le_bytes());
    buf[8..16].copy_from_slice(&seq.to_le_bytes());
    let crc = checksum(salt, &buf[0..16], &buf[HEADER_BYTES..]);
    buf[16..20].copy_from_slice(&crc.to_le_bytes());
}

fn checksum(salt: u64, len_seq: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&salt.to_le_bytes());
    h.update(len_seq);
    h.update(payload);
    h.finalize()
}

/// A generation header for `salt`.
pub(crate) fn file_header(salt: u64) -> [u8; FILE_HEADER_BYTES] {
    let mut header = [0u8; FILE_HEADER_BYTES];
    header[0..8].copy_from_slice(MAGIC);
    header[8..16].copy_from_slice(&salt.to_le_bytes());
    let crc = crc32fast::hash(&header[..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    header
}

/// The salt of a valid generation header, or `None`.
fn parse_file_header(header: &[u8; FILE_HEADER_BYTES]) -> Option<u64> {
    let crc = u32::from_le_bytes(header[28..32].try_into().unwrap());
    (&header[0..8] == MAGIC && crc32fast::hash(&header[..28]) == crc)
        .then(|| u64::from_le_bytes(header[8..16].try_into().unwrap()))
}

/// A random salt, different from each of `avoid` (the salts still on disk).
/// From the kernel's random source; if that is unavailable, from std's
/// randomly keyed hasher over the time, which is still unpredictable to
/// anyone choosing payloads.
fn fresh_salt(avoid: &[u64]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let mut bytes = [0u8; 8];
        let salt = match File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)) {
            Ok(()) => u64::from_le_bytes(bytes),
            Err(_) => {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u128(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos()),
                );
                h.finish()
            }
        };
        if !avoid.contains(&salt) {
            return salt;
        }
    }
}

/// One valid record of the log: its sequence number, where its payload
/// lies in its file, and the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) seq: u64,
    pub(crate) payload: Range<usize>,
    pub(crate) bytes: Vec<u8>,
}

/// The valid log (see the module invariants) of a file of `len` bytes that
/// `input` yields, and its generation's salt (`None`: no valid header).
/// Reads only as far as the valid log goes, plus one header.
pub(crate) fn read_log(mut input: impl Read, len: u64) -> io::Result<(Option<u64>, Vec<Found>)> {
    let mut found: Vec<Found> = Vec::new();
    if len < FILE_HEADER_BYTES as u64 {
        return Ok((None, found));
    }
    let mut file_header = [0u8; FILE_HEADER_BYTES];
    input.read_exact(&mut file_header)?;
    let Some(salt) = parse_file_header(&file_header) else {
        return Ok((None, found));
    };
    let mut at = FILE_HEADER_BYTES as u64;
    let mut header = [0u8; HEADER_BYTES];
    while len - at >= HEADER_BYTES as u64 {
        input.read_exact(&mut header)?;
        let payload_len = u64::from_le_bytes(header[0..8].try_into().unwrap());
        let seq = u64::from_le_bytes(header[8..16].try_into().unwrap());
        let crc = u32::from_le_bytes(header[16..20].try_into().unwrap());
        let start = at + HEADER_BYTES as u64;
        let continues = match found.last() {
            Some(prev) => seq == prev.seq + 1,
            None => seq != 0,
        };
        if !continues || payload_len > len - start {
            break;
        }
        let mut bytes = vec![0; payload_len as usize];
        input.read_exact(&mut bytes)?;
        if checksum(salt, &header[0..16], &bytes) != crc {
            break;
        }
        at = start + payload_len;
        found.push(Found {
            seq,
            payload: start as usize..at as usize,
            bytes,
        });
    }
    Ok((Some(salt), found))
}

/// [`read_log`] over bytes in memory.
#[cfg(test)]
pub(crate) fn scan(bytes: &[u8]) -> Vec<Found> {
    read_log(bytes, bytes.len() as u64)
        .expect("reading memory")
        .1
}

/// One of the log's two files.
struct LogFile {
    file: File,
    path: PathBuf,
    /// End of this file's live records: where its next record goes.
    end: u64,
    /// Bytes of the file already allocated and written (zeros or records).
    allocated: u64,
    /// The salt of the generation in the file (on disk or about to be).
    salt: Option<u64>,
}

impl LogFile {
    fn open(dir: &Path, name: &str) -> Result<(LogFile, Vec<Found>), StoreError> {
        let path = dir.join(name);
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("open the write-ahead log", &path, e))?;
        if !existed {
            sync_dir(dir)?;
        }
        let read = |file: &mut File| -> io::Result<(u64, Option<u64>, Vec<Found>)> {
            let len = file.metadata()?.len();
            let (salt, found) = read_log(BufReader::with_capacity(1 << 16, file), len)?;
            Ok((len, salt, found))
        };
        let (allocated, salt, found) =
            read(&mut file).map_err(|e| StoreError::io("read the write-ahead log", &path, e))?;
        let log_file = LogFile {
            file,
            path,
            end: FILE_HEADER_BYTES as u64,
            allocated,
            salt,
        };
        Ok((log_file, found))
    }

    /// Writes `bytes` at `offset`, first growing the file (zero-filled, a
    /// chunk at a time) if they would not fit.
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let end = offset + bytes.len() as u64;
        if end > self.allocated {
            let target = end.max(self.allocated + self.allocated.clamp(MIN_GROW, MAX_GROW));
            let zeros = vec![0u8; 1 << 20];
            let mut at = self.allocated;
            while at < target {
                let n = (target - at).min(zeros.len() as u64) as usize;
                self.file.seek(SeekFrom::Start(at))?;
                self.file.write_all(&zeros[..n])?;
                at += n as u64;
            }
            self.allocated = target;
        }
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(bytes)
    }
}

/// The open log: both files, one of them taking appends.
pub(crate) struct Wal {
    files: [LogFile; 2],
    /// Index of the file holding the current generation.
    active: usize,
    next_seq: u64,
}

impl Wal {
    /// Opens or creates both log files and returns the log with the valid
    /// records of both, ordered by sequence number. The log is not usable
    /// for appends until [`Wal::start_generation`].
    pub(crate) fn open(dir: &Path) -> Result<(Wal, Vec<Found>), StoreError> {
        let (first, mut found) = LogFile::open(dir, WAL_FILES[0])?;
        let (second, more) = LogFile::open(dir, WAL_FILES[1])?;
        found.extend(more);
        found.sort_by_key(|f| f.seq);
        let wal = Wal {
            files: [first, second],
            active: 0,
            next_seq: 0,
        };
        Ok((wal, found))
    }

    /// Starts a new generation in the inactive file (or, with `Some(i)`, in
    /// file `i`) whose first record will be `next_seq`. Only valid once every
    /// record in that file is in a durable checkpoint.
    ///
    /// The header is written but not synced: the first record's sync makes
    /// it durable, and until then nothing in the file matters.
    pub(crate) fn start_generation(
        &mut self,
        file: Option<usize>,
        next_seq: u64,
    ) -> Result<(), StoreError> {
        debug_assert!(next_seq >= 1);
        let index = file.unwrap_or(1 - self.active);
        let avoid: Vec<u64> = self.files.iter().filter_map(|f| f.salt).collect();
        let salt = fresh_salt(&avoid);
        let log_file = &mut self.files[index];
        // Zeroing the first record's header spares the next open from
        // checking stale records (which the new salt rejects anyway).
        let mut head = [0u8; FILE_HEADER_BYTES + HEADER_BYTES];
        head[..FILE_HEADER_BYTES].copy_from_slice(&file_header(salt));
        log_file
            .write_at(0, &head)
            .map_err(|e| StoreError::io("start a write-ahead log generation", &log_file.path, e))?;
        log_file.salt = Some(salt);
        log_file.end = FILE_HEADER_BYTES as u64;
        self.active = index;
        self.next_seq = next_seq;
        Ok(())
    }

    /// Clears the head of the other file's generation once every record in
    /// it is in a durable checkpoint, so that the next open need not read
    /// and checksum up to a whole generation of records it would skip.
    /// Not synced, and best effort: a stale chain is merely skipped.
    pub(crate) fn retire_inactive(&mut self) {
        let log_file = &mut self.files[1 - self.active];
        if log_file.allocated < (FILE_HEADER_BYTES + HEADER_BYTES) as u64 {
            return;
        }
        if let Err(err) = log_file.write_at(FILE_HEADER_BYTES as u64, &[0; HEADER_BYTES]) {
            tracing::warn!(error = %err, path = %log_file.path.display(), "clearing a retired write-ahead log generation");
        }
    }

    /// Bytes of live records in the current generation.
    pub(crate) fn len(&self) -> u64 {
        self.files[self.active].end - FILE_HEADER_BYTES as u64
    }

    /// Sequence number of the last record appended (or of the checkpoint).
    pub(crate) fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Seals the record in `buf` with the next sequence number and writes it
    /// (not yet durable: see [`Wal::sync`]). Returns its sequence number.
    pub(crate) fn append(&mut self, buf: &mut [u8]) -> Result<u64, StoreError> {
        let seq = self.next_seq;
        let log_file = &mut self.files[self.active];
        let salt = log_file.salt.expect("a generation was started");
        seal_record(buf, seq, salt);
        let start = log_file.end;
        log_file
            .write_at(start, buf)
            .map_err(|e| StoreError::io("append to the write-ahead log", &log_file.path, e))?;
        log_file.end = start + buf.len() as u64;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Makes every record appended to the current generation durable
    /// (`fdatasync`), with the generation's header.
    pub(crate) fn sync(&mut self) -> Result<(), StoreError> {
        let log_file = &self.files[self.active];
        log_file
            .file
            .sync_data()
            .map_err(|e| StoreError::io("sync the write-ahead log", &log_file.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: u64 = 0x5A17_0000_0000_0001;

    fn record(salt: u64, seq: u64, payload: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        begin_record(&mut buf);
        buf.extend_from_slice(payload);
        seal_record(&mut buf, seq, salt);
        buf
    }

    /// A whole file: a generation header and these records.
    fn log_with(salt: u64, records: &[(u64, &[u8])]) -> Vec<u8> {
        let mut bytes = file_header(salt).to_vec();
        for (seq, payload) in records {
            bytes.extend(record(salt, *seq, payload));
        }
        bytes
    }

    fn log(records: &[(u64, &[u8])]) -> Vec<u8> {
        log_with(SALT, records)
    }

    fn seqs(bytes: &[u8]) -> Vec<u64> {
        scan(bytes).iter().map(|f| f.seq).collect()
    }

    #[test]
    fn records_round_trip() {
        let bytes = log(&[(7, b"first"), (8, b""), (9, b"third record")]);
        let found = scan(&bytes);
        assert_eq!(found.len(), 3);
        assert_eq!(&bytes[found[0].payload.clone()], b"first");
        assert_eq!(&bytes[found[1].payload.clone()], b"");
        assert_eq!(&bytes[found[2].payload.clone()], b"third record");
        assert_eq!(seqs(&bytes), vec![7, 8, 9]);
        assert!(scan(&[]).is_empty());
        assert!(scan(&file_header(SALT)).is_empty());
    }

    #[test]
    fn torn_tail_keeps_exactly_the_complete_records() {
        let bytes = log(&[(1, b"one"), (2, b"two"), (3, b"the last record")]);
        let last_start = bytes.len() - (HEADER_BYTES + b"the last record".len());
        for cut in last_start..bytes.len() {
            assert_eq!(seqs(&bytes[..cut]), vec![1, 2], "cut at {cut}");
            // A torn tail followed by zeros (the preallocated file) too.
            let mut padded = bytes[..cut].to_vec();
            padded.resize(bytes.len() + 64, 0);
            assert_eq!(seqs(&padded), vec![1, 2], "cut at {cut}, zero-padded");
        }
        assert_eq!(seqs(&bytes), vec![1, 2, 3]);
    }

    #[test]
    fn any_corrupt_byte_stops_the_log_there() {
        let bytes = log(&[(1, b"one"), (2, b"two"), (3, b"three")]);
        let second = FILE_HEADER_BYTES + HEADER_BYTES + 3;
        let third = second + HEADER_BYTES + 3;
        for at in second..third {
            let mut bad = bytes.clone();
            bad[at] ^= 0x40;
            assert_eq!(seqs(&bad), vec![1], "flipped byte {at}");
        }
    }

    #[test]
    fn a_damaged_generation_header_means_no_records() {
        let bytes = log(&[(1, b"one"), (2, b"two")]);
        for at in 0..FILE_HEADER_BYTES {
            let mut bad = bytes.clone();
            bad[at] ^= 0x01;
            assert!(scan(&bad).is_empty(), "flipped header byte {at}");
        }
        // Or torn: a file shorter than its header.
        assert!(scan(&bytes[..FILE_HEADER_BYTES - 1]).is_empty());
    }

    #[test]
    fn zeros_and_stale_records_are_not_records() {
        assert!(scan(&[0; 100]).is_empty());
        // A new generation (5, 6) over an older, longer one (1..=4).
        let old = log_with(1, &[(1, b"a"), (2, b"b"), (3, b"c"), (4, b"d")]);
        let mut bytes = old.clone();
        let new = log_with(2, &[(5, b"x"), (6, b"y")]);
        bytes[..new.len()].copy_from_slice(&new);
        assert_eq!(seqs(&bytes), vec![5, 6]);
        // A new generation's first record torn: nothing, not the old ones.
        let mut bytes = old.clone();
        bytes[..FILE_HEADER_BYTES].copy_from_slice(&file_header(2));
        let torn = &record(2, 5, b"x")[..HEADER_BYTES];
        bytes[FILE_HEADER_BYTES..FILE_HEADER_BYTES + HEADER_BYTES].copy_from_slice(torn);
        assert!(scan(&bytes).is_empty());
    }

    /// The stale record that continues the chain, sequence number and all:
    /// only its salt tells it apart.
    #[test]
    fn a_stale_record_with_the_next_sequence_number_does_not_continue_the_log() {
        // Old generation: 5, 6, 7. New one, over it: 5' (same length as 5).
        let old = log_with(1, &[(5, b"old five"), (6, b"old six"), (7, b"old seven")]);
        let mut bytes = old.clone();
        let new = log_with(2, &[(5, b"new five")]);
        bytes[..new.len()].copy_from_slice(&new);
        assert_eq!(seqs(&bytes), vec![5]);
        // Unsalted checksums would have taken 6 and 7 too: prove the stale
        // records are intact and well-formed under their own salt.
        let mut unsalted = old.clone();
        unsalted[..new.len()].copy_from_slice(&log_with(1, &[(5, b"new five")]));
        assert_eq!(seqs(&unsalted), vec![5, 6, 7]);
    }

    /// A payload (say, a binary key) crafted to hold a record of the old
    /// generation that continues the new generation's chain.
    #[test]
    fn a_record_hidden_in_an_old_payload_is_not_replayed() {
        // The new generation's record 6 (a 20-byte header plus 10 bytes) will
        // end exactly where the old record 5's payload hides "record 7".
        let hidden = record(1, 7, b"DROP EVERYTHING");
        let mut payload = vec![b'.'; 10];
        payload.extend_from_slice(&hidden);
        let old = log_with(1, &[(5, &payload)]);
        // Sanity: where the hidden record sits, the old salt would accept it.
        let at = FILE_HEADER_BYTES + HEADER_BYTES + 10;
        assert_eq!(&old[at..at + hidden.len()], &hidden[..]);
        let mut forged = file_header(1).to_vec();
        forged.extend(record(1, 6, &[b'-'; 10]));
        forged.extend_from_slice(&old[at..]);
        assert_eq!(
            seqs(&forged),
            vec![6, 7],
            "the forgery works without a salt change"
        );
        // The real new generation, salted afresh: record 6 then nothing.
        let mut bytes = old.clone();
        let new = log_with(2, &[(6, &[b'-'; 10])]);
        assert_eq!(new.len(), at);
        bytes[..new.len()].copy_from_slice(&new);
        assert_eq!(seqs(&bytes), vec![6]);
    }

    fn append(wal: &mut Wal, payload: &[u8]) -> u64 {
        let mut buf = Vec::new();
        begin_record(&mut buf);
        buf.extend_from_slice(payload);
        wal.append(&mut buf).unwrap()
    }

    #[test]
    fn file_appends_and_generations() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, found) = Wal::open(dir.path()).unwrap();
        assert!(found.is_empty());
        wal.start_generation(Some(0), 10).unwrap();
        for payload in [&b"one"[..], b"two", b"three"] {
            append(&mut wal, payload);
        }
        wal.sync().unwrap();
        assert_eq!(wal.last_seq(), 12);
        drop(wal);
        let (mut wal, found) = Wal::open(dir.path()).unwrap();
        assert_eq!(
            found.iter().map(|f| f.seq).collect::<Vec<_>>(),
            [10, 11, 12]
        );
        assert_eq!(found[1].bytes, b"two");
        assert!(wal.files[0].allocated >= MIN_GROW, "preallocated");
        // Records 12 and 13 in the second file: both files count.
        wal.start_generation(Some(0), 10).unwrap();
        append(&mut wal, b"one");
        append(&mut wal, b"two");
        wal.start_generation(None, 12).unwrap();
        assert_eq!(wal.active, 1);
        append(&mut wal, b"twelve");
        append(&mut wal, b"thirteen");
        wal.sync().unwrap();
        drop(wal);
        let (mut wal, found) = Wal::open(dir.path()).unwrap();
        assert_eq!(
            found.iter().map(|f| f.seq).collect::<Vec<_>>(),
            [10, 11, 12, 13]
        );
        // Back to the first file: its old generation is gone.
        wal.start_generation(Some(1), 12).unwrap();
        append(&mut wal, b"twelve");
        append(&mut wal, b"thirteen");
        wal.start_generation(None, 14).unwrap();
        assert_eq!(wal.active, 0);
        append(&mut wal, b"fourteen");
        wal.sync().unwrap();
        drop(wal);
        let (mut wal, found) = Wal::open(dir.path()).unwrap();
        assert_eq!(
            found.iter().map(|f| f.seq).collect::<Vec<_>>(),
            [12, 13, 14]
        );
        // Once 12 and 13 are checkpointed, their generation is cleared.
        wal.start_generation(Some(1), 12).unwrap();
        append(&mut wal, b"twelve");
        wal.start_generation(None, 13).unwrap();
        append(&mut wal, b"thirteen");
        wal.sync().unwrap();
        wal.retire_inactive();
        drop(wal);
        let (_, found) = Wal::open(dir.path()).unwrap();
        assert_eq!(found.iter().map(|f| f.seq).collect::<Vec<_>>(), [13]);
    }

    /// The same attack through the file API: a record whose payload hides a
    /// record of its own generation, then a new generation in that file.
    #[test]
    fn a_hidden_record_in_the_file_is_not_replayed_after_a_new_generation() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path()).unwrap();
        wal.start_generation(Some(0), 1).unwrap();
        let old_salt = wal.files[0].salt.unwrap();
        let mut payload = vec![b'.'; 10];
        payload.extend(record(old_salt, 3, b"forged"));
        append(&mut wal, &payload);
        wal.sync().unwrap();
        // Checkpointed; generation in the other file, then back to this one.
        wal.start_generation(None, 2).unwrap();
        wal.start_generation(None, 2).unwrap();
        assert_eq!(wal.active, 0);
        assert_ne!(wal.files[0].salt, Some(old_salt));
        append(&mut wal, &[b'-'; 10]);
        wal.sync().unwrap();
        drop(wal);
        let (_, found) = Wal::open(dir.path()).unwrap();
        assert_eq!(found.iter().map(|f| f.seq).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn salts_are_fresh() {
        let a = fresh_salt(&[]);
        let b = fresh_salt(&[a]);
        assert_ne!(a, b);
    }
}
