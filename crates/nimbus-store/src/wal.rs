//! The write-ahead log, `<dir>/wal`: one record per committed group, made
//! durable with one `fdatasync` before the group becomes visible.
//!
//! # Record format
//!
//! `len:u64 seq:u64 crc:u32 payload[len]`, little-endian, where `crc` is the
//! CRC-32 of `len`, `seq` and the payload, and the payload is the group's redo
//! ops (see `redo`). Records are written back to back from offset 0.
//!
//! # Invariants
//!
//! - **Durable means synced.** A record is durable once `sync` returns after
//!   it was appended; the writer acknowledges no call of a group before that.
//! - **Sequence numbers** start at 1, grow by one per record and are never
//!   reused once durable: after a checkpoint at `seq` the next record is
//!   `seq + 1`. A retracted (never durable) record's number is reused.
//! - **Reset reuses the file.** After a checkpoint the log restarts at offset
//!   0 without truncating (the first header is zeroed, unsynced, only so the
//!   next open need not read checkpointed records), so stale records of
//!   earlier generations may follow the live ones. Every stale record has a
//!   lower sequence number than any live one, so it never continues the live
//!   chain.
//! - **The valid log** ([`read_log`]) is the longest chain from offset 0 of
//!   complete records with correct checksums and consecutive sequence
//!   numbers. Anything after it (a torn or unsynced append, zeros, stale
//!   records) is not part of the log: it was never acknowledged.
//! - **No size changes on the hot path.** The file is grown in zero-filled
//!   chunks ahead of the records, so appends usually overwrite allocated,
//!   written blocks and `fdatasync` has no metadata to journal.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::dir_lock::sync_dir;
use crate::StoreError;

pub(crate) const WAL_FILE: &str = "wal";
pub(crate) const HEADER_BYTES: usize = 20;

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

/// Fills in the header of a record begun with [`begin_record`].
pub(crate) fn seal_record(buf: &mut [u8], seq: u64) {
    let len = (buf.len() - HEADER_BYTES) as u64;
    buf[0..8].copy_from_slice(&len.to_le_bytes());
    buf[8..16].copy_from_slice(&seq.to_le_bytes());
    let crc = checksum(&buf[0..16], &buf[HEADER_BYTES..]);
    buf[16..20].copy_from_slice(&crc.to_le_bytes());
}

fn checksum(len_seq: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(len_seq);
    h.update(payload);
    h.finalize()
}

/// One valid record of the log: its sequence number, where its payload
/// lies in the file, and the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) seq: u64,
    pub(crate) payload: Range<usize>,
    pub(crate) bytes: Vec<u8>,
}

/// The valid log (see the module invariants) in the `len` bytes `input`
/// yields. Reads only as far as the valid log goes, plus one header.
pub(crate) fn read_log(mut input: impl Read, len: u64) -> io::Result<Vec<Found>> {
    let mut found: Vec<Found> = Vec::new();
    let mut at = 0u64;
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
        if checksum(&header[0..16], &bytes) != crc {
            break;
        }
        at = start + payload_len;
        found.push(Found {
            seq,
            payload: start as usize..at as usize,
            bytes,
        });
    }
    Ok(found)
}

/// [`read_log`] over bytes in memory.
#[cfg(test)]
pub(crate) fn scan(bytes: &[u8]) -> Vec<Found> {
    read_log(bytes, bytes.len() as u64).expect("reading memory")
}

/// The open log file, positioned for the next append.
pub(crate) struct Wal {
    file: File,
    path: PathBuf,
    /// End of the live records: where the next record goes.
    end: u64,
    /// Bytes of the file already allocated and written (zeros or records).
    allocated: u64,
    next_seq: u64,
    /// Start of the last appended record, until a reset.
    last_start: Option<u64>,
}

impl Wal {
    /// Opens or creates `<dir>/wal` and returns it with its valid records.
    /// The log is not usable for appends until [`Wal::reset`].
    pub(crate) fn open(dir: &Path) -> Result<(Wal, Vec<Found>), StoreError> {
        let path = dir.join(WAL_FILE);
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
        let read = |file: &mut File| -> io::Result<(u64, Vec<Found>)> {
            let len = file.metadata()?.len();
            Ok((len, read_log(BufReader::with_capacity(1 << 16, file), len)?))
        };
        let (allocated, found) =
            read(&mut file).map_err(|e| StoreError::io("read the write-ahead log", &path, e))?;
        let wal = Wal {
            file,
            path,
            end: 0,
            allocated,
            next_seq: 0,
            last_start: None,
        };
        Ok((wal, found))
    }

    /// Restarts the log at offset 0; the next record gets `next_seq`. Only
    /// valid once every record so far is checkpointed (or none matters).
    ///
    /// Also zeroes the first header (not synced: this only spares the next
    /// open from reading checkpointed records, which it would skip anyway).
    pub(crate) fn reset(&mut self, next_seq: u64) {
        debug_assert!(next_seq >= 1);
        if self.allocated >= HEADER_BYTES as u64 {
            if let Err(err) = self.write_at(0, &[0; HEADER_BYTES]) {
                tracing::warn!(error = %err, "clearing the head of the write-ahead log");
            }
        }
        self.end = 0;
        self.next_seq = next_seq;
        self.last_start = None;
    }

    /// Bytes of live records.
    pub(crate) fn len(&self) -> u64 {
        self.end
    }

    /// Sequence number of the last live record (or of the checkpoint).
    pub(crate) fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Seals the record in `buf` with the next sequence number and writes it
    /// (not yet durable: see [`Wal::sync`]). Returns its sequence number.
    pub(crate) fn append(&mut self, buf: &mut [u8]) -> Result<u64, StoreError> {
        let seq = self.next_seq;
        seal_record(buf, seq);
        let end = self.end + buf.len() as u64;
        if end > self.allocated {
            self.grow(end)?;
        }
        self.write_at(self.end, buf)
            .map_err(|e| StoreError::io("append to the write-ahead log", &self.path, e))?;
        self.last_start = Some(self.end);
        self.end = end;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Makes every appended record durable (`fdatasync`).
    pub(crate) fn sync(&mut self) -> Result<(), StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::io("sync the write-ahead log", &self.path, e))
    }

    /// Undoes the last append (its group failed after it was logged): zeroes
    /// its header, durably, so recovery will never replay it.
    pub(crate) fn retract(&mut self) -> Result<(), StoreError> {
        let Some(start) = self.last_start.take() else {
            return Ok(());
        };
        self.write_at(start, &[0; HEADER_BYTES])
            .map_err(|e| StoreError::io("retract a write-ahead log record", &self.path, e))?;
        self.sync()?;
        self.end = start;
        self.next_seq -= 1;
        Ok(())
    }

    /// Zero-fills the file up to at least `end`, a chunk at a time.
    fn grow(&mut self, end: u64) -> Result<(), StoreError> {
        let target = end.max(self.allocated + self.allocated.clamp(MIN_GROW, MAX_GROW));
        let zeros = vec![0u8; 1 << 20];
        let mut at = self.allocated;
        while at < target {
            let n = (target - at).min(zeros.len() as u64) as usize;
            self.write_at(at, &zeros[..n])
                .map_err(|e| StoreError::io("grow the write-ahead log", &self.path, e))?;
            at += n as u64;
        }
        self.allocated = target;
        Ok(())
    }

    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, payload: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        begin_record(&mut buf);
        buf.extend_from_slice(payload);
        seal_record(&mut buf, seq);
        buf
    }

    fn log(records: &[(u64, &[u8])]) -> Vec<u8> {
        records.iter().flat_map(|(s, p)| record(*s, p)).collect()
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
        let second = HEADER_BYTES + 3;
        let third = second + HEADER_BYTES + 3;
        for at in second..third {
            let mut bad = bytes.clone();
            bad[at] ^= 0x40;
            assert_eq!(seqs(&bad), vec![1], "flipped byte {at}");
        }
    }

    #[test]
    fn zeros_and_stale_records_are_not_records() {
        assert!(scan(&[0; 100]).is_empty());
        // A new generation (5, 6) over an older, longer one (1..=4).
        let old = log(&[(1, b"a"), (2, b"b"), (3, b"c"), (4, b"d")]);
        let mut bytes = old.clone();
        let new = log(&[(5, b"x"), (6, b"y")]);
        bytes[..new.len()].copy_from_slice(&new);
        assert_eq!(seqs(&bytes), vec![5, 6]);
        // A new generation's first record torn: nothing, not the old ones.
        let mut bytes = old.clone();
        bytes[..HEADER_BYTES].copy_from_slice(&record(5, b"x")[..HEADER_BYTES]);
        assert!(scan(&bytes).is_empty());
    }

    #[test]
    fn file_appends_retracts_and_resets() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, found) = Wal::open(dir.path()).unwrap();
        assert!(found.is_empty());
        wal.reset(10);
        for payload in [&b"one"[..], b"two", b"three"] {
            let mut buf = Vec::new();
            begin_record(&mut buf);
            buf.extend_from_slice(payload);
            wal.append(&mut buf).unwrap();
        }
        wal.sync().unwrap();
        wal.retract().unwrap();
        assert_eq!(wal.last_seq(), 11);
        drop(wal);
        let (mut wal, found) = Wal::open(dir.path()).unwrap();
        assert_eq!(found.iter().map(|f| f.seq).collect::<Vec<_>>(), [10, 11]);
        assert_eq!(found[1].bytes, b"two");
        assert!(wal.allocated >= MIN_GROW, "preallocated");
        wal.reset(12);
        let mut buf = Vec::new();
        begin_record(&mut buf);
        wal.append(&mut buf).unwrap();
        wal.sync().unwrap();
        drop(wal);
        let (mut wal, found) = Wal::open(dir.path()).unwrap();
        assert_eq!(found.iter().map(|f| f.seq).collect::<Vec<_>>(), [12]);
        // A reset (after a checkpoint) leaves nothing for the next open.
        wal.reset(13);
        drop(wal);
        assert!(Wal::open(dir.path()).unwrap().1.is_empty());
    }
}
