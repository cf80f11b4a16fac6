//! The staff console's pages (the `console` function). The pages live in `crate::console`.

use super::Routes;
use super::{get, post};

use crate::console::{
    HOME, claims, credits, holds, home, incidents, register, reports, sla, staff, tenant, tenants,
};

pub fn router() -> Routes {
    Routes::new()
        .page(
            web::paths::CONSOLE,
            get(|| async { crate::web::layout::see_other(HOME, &[]) }),
        )
        .page(HOME, get(home::home))
        .page(reports::REPORTS, get(reports::inbox))
        .page("/console/reports/{report}", get(reports::report))
        .page("/console/reports/{report}/triage", post(reports::triage))
        .page("/console/reports/{report}/messages", post(reports::message))
        .page(incidents::INCIDENTS, get(incidents::list))
        .page("/console/incidents/{incident}", get(incidents::detail))
        .page(
            "/console/incidents/{incident}/file",
            get(incidents::file_page).post(incidents::change_file),
        )
        .page(
            "/console/incidents/{incident}/notices",
            post(incidents::notify),
        )
        .page(
            "/console/incidents/{incident}/measures",
            post(incidents::add_measure),
        )
        .page(
            "/console/incidents/{incident}/assessment",
            post(incidents::assess),
        )
        .page(
            "/console/incidents/{incident}/recorded-notices",
            post(incidents::record_notice),
        )
        .page(
            "/console/incidents/{incident}/override",
            post(incidents::override_assessment),
        )
        .page(register::REGISTER, get(register::register))
        .page(register::REGISTER_CSV, get(register::register_csv))
        .page(claims::CLAIMS, get(claims::queue))
        .page(
            "/console/claims/{tenant}/{claim}/decision",
            post(claims::decide),
        )
        .page(credits::CREDITS, get(credits::list).post(credits::grant))
        .page(
            "/console/credits/{tenant}/{credit}/approval",
            post(credits::approve),
        )
        .page(
            "/console/credits/{tenant}/{credit}/cancel",
            post(credits::cancel),
        )
        .page(holds::HOLDS, get(holds::list).post(holds::set))
        .page("/console/holds/{tenant}/{hold}/lift", post(holds::lift))
        .page(sla::SLA, get(sla::current))
        .page("/console/sla/{month}", get(sla::month_page))
        .page("/console/sla/{month}/outages", post(sla::record_outage))
        .page(
            "/console/sla/{month}/exclusions",
            post(sla::record_exclusion),
        )
        .page(staff::STAFF, get(staff::list).post(staff::invite))
        .page("/console/staff/{user}/roles", post(staff::set_roles))
        .page(
            "/console/staff/{user}/second-factor-reset",
            post(staff::request_reset),
        )
        .page(
            "/console/staff/{user}/second-factor-reset/approval",
            post(staff::approve_reset),
        )
        .page(
            "/console/staff/{user}/second-factor-reset/withdrawal",
            post(staff::withdraw_reset),
        )
        .page("/console/staff/{user}/disable", post(staff::disable))
        .page("/console/staff/{user}/enable", post(staff::enable))
        .page(tenants::TENANTS, get(tenants::list).post(tenants::create))
        .page(
            "/console/tenants/{tenant}/admin",
            post(tenants::invite_admin),
        )
        .page("/console/tenants/{tenant}", get(tenant::show))
        .page("/console/tenants/{tenant}/profile", post(tenant::profile))
        .page("/console/tenants/{tenant}/contract", post(tenant::contract))
        .page(
            "/console/tenants/{tenant}/service-end",
            post(tenant::service_end),
        )
        .page(
            "/console/tenants/{tenant}/service-end/approval",
            post(tenant::approve_service_end),
        )
        // Any other console address: a page saying so, not a problem document.
        .unknown_pages("/console/{*rest}", not_found)
}

async fn not_found() -> crate::web::PageError {
    crate::web::PageError(kernel::Error::NotFound("page".into()))
}
