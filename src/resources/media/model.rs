//! Media shapes (reference 03 §4.3, §4.4): the metadata of a stored file and the download
//! token response.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaFolder {
    pub name: String,
}

/// A stored file as the API shows it (never the bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    pub id: String,
    pub media_folder: MediaFolder,
    pub is_private: bool,
    pub mime_type: Option<String>,
    pub file_extension: String,
    pub file_name: String,
    /// `<id>.<ext>`: a name safe to store the file under, whatever the original name was.
    pub storage_file_name: String,
    pub created_at: String,
}

impl Media {
    /// Builds the read shape from stored columns; `storageFileName` is derived, not stored.
    pub fn new(
        id: String,
        folder: String,
        is_private: bool,
        mime_type: String,
        file_extension: String,
        file_name: String,
        created_at: String,
    ) -> Media {
        let storage_file_name = if file_extension.is_empty() {
            id.clone()
        } else {
            format!("{id}.{file_extension}")
        };
        Media {
            id,
            media_folder: MediaFolder { name: folder },
            is_private,
            mime_type: Some(mime_type),
            file_extension,
            file_name,
            storage_file_name,
            created_at,
        }
    }
}

/// `POST /media/{id}/download-token` (201).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadToken {
    pub token: String,
    /// Absolute URL of `GET /media/{id}/download/{token}`.
    pub url: String,
    pub expires_at: String,
}
