//! The customer portal's pages (the `portal` function). The pages live in `crate::portal`.

use super::Routes;
use super::{get, post};

use crate::portal::{SLA, account, billing, incidents, overview, retention, sla, team};

pub fn router() -> Routes {
    Routes::new()
        .page(
            "/portal",
            get(|| async { crate::web::layout::see_other(crate::portal::OVERVIEW, &[]) }),
        )
        .page(crate::portal::OVERVIEW, get(overview::overview))
        .page(SLA, get(sla::current))
        .page("/portal/sla/{month}", get(sla::month_page))
        .page("/portal/sla/{month}/claims", post(sla::file_claim))
        .page(incidents::INCIDENTS, get(incidents::list))
        .page("/portal/incidents/{incident}", get(incidents::detail))
        .page(retention::RETENTION, get(retention::retention_page))
        .page(
            retention::FINAL_DELETION,
            post(retention::request_final_deletion),
        )
        .page(billing::BILLING, get(billing::billing_page))
        .page(team::TEAM, get(team::team))
        .page(team::INVITE, post(team::invite))
        .page(team::PASSKEY_RULE, post(team::passkey_rule))
        .page(team::ROLES, get(team::roles_page).post(team::define_role))
        .page("/portal/team/{user}/disable", post(team::disable))
        .page("/portal/team/{user}/enable", post(team::enable))
        .page("/portal/team/{user}/roles", post(team::set_roles))
        .page(
            crate::portal::subprocessors::SUBPROCESSORS,
            get(crate::portal::subprocessors::subprocessors_page),
        )
        .page(
            "/portal/subprocessors/{change}/objection",
            post(crate::portal::subprocessors::object),
        )
        .page(
            crate::portal::instructions::INSTRUCTIONS,
            get(crate::portal::instructions::instructions_page)
                .post(crate::portal::instructions::acknowledge),
        )
        .page(
            crate::portal::instructions::RECORD,
            get(crate::portal::instructions::record_page),
        )
        .page(
            crate::portal::instructions::RECORD_JSON,
            get(crate::portal::instructions::record_json),
        )
        .page(account::ACCOUNT, get(account::account))
        .page(account::PASSWORD, post(account::change_password))
        .page(
            account::SIGN_OUT_EVERYWHERE,
            post(account::sign_out_everywhere),
        )
        .page(
            "/portal/account/sessions/{session}/end",
            post(account::end_session),
        )
        .page(account::NEW_PASSKEY, get(account::new_passkey))
        .page(account::PASSKEYS, post(account::add_passkey))
        .page(
            "/portal/account/passkeys/{passkey}/remove",
            post(account::remove_passkey),
        )
        .page(account::OTP_START, post(account::start_otp))
        .page(account::OTP_CONFIRM, post(account::confirm_otp))
        // Any other portal address: a page saying so, not a problem document.
        .unknown_pages("/portal/{*rest}", not_found)
}

async fn not_found() -> crate::web::PageError {
    crate::web::PageError(kernel::Error::NotFound("page".into()))
}
