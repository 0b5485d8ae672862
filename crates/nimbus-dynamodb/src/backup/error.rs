//! The errors of the backup and point-in-time recovery operations, with
//! AWS's names and texts (observed on the live service where noted in the
//! compatibility notes; the rest follow its documented shapes).

/// A backup or restore refused for a reason the caller can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupError {
    /// The control-plane backup APIs name a missing (or still restoring)
    /// table this way, not with ResourceNotFoundException.
    TableNotFound(String),
    BackupNotFound(String),
    /// A restore's target name is taken by a table.
    TableAlreadyExists(String),
    /// A restore's target name is taken by a table still being restored
    /// (the message is complete).
    TableInUse(String),
    /// The backup feeds a restore in progress (the message is complete).
    BackupInUse(String),
    /// RestoreTableToPointInTime from a table without PITR.
    PitrUnavailable(String),
    /// A RestoreDateTime outside the recovery window; the times are ISO
    /// 8601 (UTC, whole seconds) as AWS quotes them.
    InvalidRestoreTime {
        requested: String,
        earliest: String,
        latest: String,
    },
}

impl BackupError {
    /// The AWS error code and message.
    pub fn parts(&self) -> (&'static str, String) {
        match self {
            BackupError::TableNotFound(name) => {
                ("TableNotFoundException", format!("Table not found: {name}"))
            }
            BackupError::BackupNotFound(arn) => {
                ("BackupNotFoundException", format!("Backup not found: {arn}"))
            }
            BackupError::TableAlreadyExists(name) => (
                "TableAlreadyExistsException",
                format!("Table already exists: {name}"),
            ),
            BackupError::TableInUse(m) => ("TableInUseException", m.clone()),
            BackupError::BackupInUse(m) => ("BackupInUseException", m.clone()),
            BackupError::PitrUnavailable(name) => (
                "PointInTimeRecoveryUnavailableException",
                format!("Point in time recovery is not enabled for table '{name}'"),
            ),
            BackupError::InvalidRestoreTime {
                requested,
                earliest,
                latest,
            } => (
                "InvalidRestoreTimeException",
                format!(
                    "RestoreDateTime '{requested}' must be within EarliestRestorableDateTime '{earliest}' and LatestRestorableDateTime '{latest}'"
                ),
            ),
        }
    }
}

/// `2024-05-01T12:00:00Z`: how AWS quotes times in restore errors.
pub fn iso_seconds(ms: u64) -> String {
    // A stream label is the same time with milliseconds.
    let label = crate::streams::label_for(ms);
    format!("{}Z", label.get(..19).unwrap_or(&label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_aws() {
        assert_eq!(iso_seconds(1_714_564_800_999), "2024-05-01T12:00:00Z");
    }
}
