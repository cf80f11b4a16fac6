//! The English wording of what customers read. The incident file is kept in German (the
//! company's language, and its customers'); staff may add the customer title, the nature and
//! scope, the likely consequences and each measure in English. The English part of a notice
//! (and the portal in English) uses these where given, and otherwise the German text, marked
//! as such — never a silent mix.

use serde::{Deserialize, Serialize};

use super::{IncidentService, clean};
use crate::model::{IncidentRecord, StoredEnglish};
use kernel::crypto::{Personal, SealedField};
use kernel::error::{Error, FieldError};
use kernel::inventory::RecordKind;

/// The English texts as staff give them (a draft's, or a change's: a given field replaces the
/// stored one, an empty one removes it).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnglishInput {
    #[serde(default)]
    pub customer_title: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub nature_and_scope: Option<Personal<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub likely_consequences: Option<Personal<String>>,
}

impl EnglishInput {
    pub fn is_empty(&self) -> bool {
        self.customer_title.is_none()
            && self.nature_and_scope.is_none()
            && self.likely_consequences.is_none()
    }

    /// Every over-long text, with its pointer under `/english` (empty ones are removals).
    pub fn errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self
            .customer_title
            .as_ref()
            .is_some_and(|t| t.chars().count() > 200)
        {
            errors.push(FieldError::new(
                "/english/customer_title",
                "must be at most 200 characters",
            ));
        }
        for (field, value) in [
            ("nature_and_scope", &self.nature_and_scope),
            ("likely_consequences", &self.likely_consequences),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.expose().chars().count() > 20_000)
            {
                errors.push(FieldError::new(
                    format!("/english/{field}"),
                    "must be at most 20000 characters",
                ));
            }
        }
        errors
    }
}

/// The English texts, opened (absent where staff gave none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnglishText {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nature_and_scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likely_consequences: Option<String>,
}

/// The field names the English texts are sealed under (their inventory paths).
const TITLE: &str = "english.customer_title";
const NATURE: &str = "english.nature_and_scope";
const CONSEQUENCES: &str = "english.likely_consequences";
/// A measure's English text.
pub(super) const MEASURE: &str = "measures[].what_en";

impl IncidentService {
    /// `stored` with `input` applied: given texts sealed, empty ones removed, the rest kept;
    /// returns the names of the texts that changed.
    pub(super) async fn apply_english(
        &self,
        iid: &str,
        stored: &mut StoredEnglish,
        input: EnglishInput,
    ) -> Result<Vec<&'static str>, Error> {
        let mut changed = Vec::new();
        let texts = [
            (
                TITLE,
                &mut stored.customer_title,
                input.customer_title.map(|t| Personal::new(clean(&t))),
            ),
            (NATURE, &mut stored.nature_and_scope, input.nature_and_scope),
            (
                CONSEQUENCES,
                &mut stored.likely_consequences,
                input.likely_consequences,
            ),
        ];
        for (field, slot, given) in texts {
            let Some(given) = given else { continue };
            *slot = self.seal_optional(iid, field, &given).await?;
            changed.push(field);
        }
        Ok(changed)
    }

    /// A text sealed under `field`, or none when it is empty (an empty text removes).
    pub(super) async fn seal_optional(
        &self,
        iid: &str,
        field: &str,
        text: &Personal<String>,
    ) -> Result<Option<SealedField>, Error> {
        if text.expose().trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(
            self.seal(RecordKind::Incident, iid, field, text).await?,
        ))
    }

    /// A measure's English text, opened.
    pub(super) async fn measure_english(
        &self,
        iid: &str,
        measure: &crate::model::Measure,
    ) -> Result<Option<String>, Error> {
        self.open_text(iid, MEASURE, &measure.what_en).await
    }

    /// The English texts of `record`, opened.
    pub(super) async fn english_of(&self, record: &IncidentRecord) -> Result<EnglishText, Error> {
        let iid = record.id.to_string();
        let english = &record.english;
        Ok(EnglishText {
            customer_title: self.open_text(&iid, TITLE, &english.customer_title).await?,
            nature_and_scope: self
                .open_text(&iid, NATURE, &english.nature_and_scope)
                .await?,
            likely_consequences: self
                .open_text(&iid, CONSEQUENCES, &english.likely_consequences)
                .await?,
        })
    }

    /// Only the English title of `record` (a list needs no more).
    pub(super) async fn english_title(
        &self,
        record: &IncidentRecord,
    ) -> Result<Option<String>, Error> {
        let iid = record.id.to_string();
        self.open_text(&iid, TITLE, &record.english.customer_title)
            .await
    }

    /// An incident's optional sealed text, opened.
    async fn open_text(
        &self,
        iid: &str,
        field: &str,
        sealed: &Option<SealedField>,
    ) -> Result<Option<String>, Error> {
        self.open_optional(RecordKind::Incident, iid, field, sealed.as_ref())
            .await
    }
}
