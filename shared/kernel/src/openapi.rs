//! How the building blocks that carry their own serde format look in the OpenAPI document
//! (feature `openapi`: the functions' document, never the Worker).

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::ids::TenantId;
use crate::time::Month;

fn string(description: &str, pattern: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .examples([example])
        .into()
}

impl PartialSchema for TenantId {
    fn schema() -> RefOr<Schema> {
        string(
            "A customer's id: 2 to 63 of a-z, 0-9 and '-', not starting or ending with '-'",
            "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
            "acme",
        )
    }
}

impl ToSchema for TenantId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TenantId")
    }
}

impl PartialSchema for Month {
    fn schema() -> RefOr<Schema> {
        string(
            "A calendar month in Europe/Berlin",
            "^[0-9]{4}-(0[1-9]|1[0-2])$",
            "2026-11",
        )
    }
}

impl ToSchema for Month {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Month")
    }
}

impl PartialSchema for crate::rbac::Permission {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A permission: staff hold them through their roles, a customer's users through the roles their company defines",
            ))
            .enum_values(Some(crate::rbac::Permission::ALL.iter().map(|p| p.as_str())))
            .into()
    }
}

impl ToSchema for crate::rbac::Permission {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Permission")
    }
}
