//! `/portal/billing`: the company's invoices as Stripe reported them and its credits — SLA
//! credits for verified claims and voluntary ones — with where each stands on its way to the
//! next invoice. Payments run only through Stripe; no card data is ever here.

use std::sync::Arc;

use axum::extract::State;
use billing::credits::CreditKind;
use billing::records::InvoiceStatus;
use kernel::money::Money;
use maud::html;

use super::{nav, tenant_of};
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date, date_time, money, month_name};
use crate::web::{Page, PageResult, Viewer};

pub const BILLING: &str = "/portal/billing";

fn invoice_status(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Open => t("offen", "open"),
        InvoiceStatus::Paid => t("bezahlt", "paid"),
        InvoiceStatus::Uncollectible => t("uneinbringlich", "uncollectible"),
        InvoiceStatus::Void => t("storniert", "void"),
    }
}

pub async fn billing_page(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    let tenant = tenant_of(&viewer)?;
    let lang = current_lang();
    let overview = s.billing.overview(&viewer.access, &tenant).await?;
    let mut credits = s.credits.list(&viewer.access, &tenant).await?;
    credits.sort_by_key(|c| std::cmp::Reverse(c.decided_at));
    let mut invoices = overview.invoices;
    invoices.sort_by_key(|i| std::cmp::Reverse(i.period_start));
    let body = html! {
        h1 { (t("Abrechnung", "Billing")) }
        p class="lead" { (t(
            "Zahlungen laufen ausschließlich über Stripe; Kartendaten speichern wir nie. Gutschriften werden Ihrem Stripe-Kundenkonto gutgeschrieben und mit künftigen Rechnungen verrechnet, nie ausgezahlt.",
            "Payments run through Stripe only; we never store card data. Credits go to your Stripe customer balance and are taken off future invoices, never paid out.",
        )) }
        h2 id="credits" { (t("Gutschriften", "Credits")) }
        @if credits.is_empty() {
            p class="muted" { (t("Noch keine.", "None yet.")) }
        } @else {
            table {
                caption class="muted" { (t("Neueste zuerst", "Newest first")) }
                thead { tr {
                    th scope="col" { (t("Art", "Kind")) }
                    th scope="col" class="num" { (t("Betrag", "Amount")) }
                    th scope="col" { (t("Entschieden", "Decided")) }
                    th scope="col" { (t("Stand", "State")) }
                } }
                tbody {
                    @for credit in &credits {
                        tr {
                            td {
                                @match &credit.kind {
                                    CreditKind::Sla { month, .. } => {
                                        (t("SLA-Gutschrift für ", "SLA credit for ")) (month_name(lang, month.year(), month.month()))
                                    }
                                    CreditKind::Voluntary => {
                                        (t("Freiwillige Gutschrift", "Voluntary credit"))
                                        br; span class="muted" { (credit.reason) }
                                    }
                                }
                            }
                            td class="num" { (money(lang, &credit.money())) }
                            td { (date_time(lang, credit.decided_at)) }
                            td {
                                (super::sla::credit_state(credit))
                                @if let Some(at) = credit.applied_at { " (" (date(lang, at)) ")" }
                            }
                        }
                    }
                }
            }
        }
        h2 id="invoices" { (t("Rechnungen", "Invoices")) }
        @if invoices.is_empty() {
            p class="muted" { (t("Stripe hat uns noch keine Rechnung gemeldet.", "Stripe has not reported an invoice to us yet.")) }
        } @else {
            table {
                caption class="muted" { (t("Wie Stripe sie meldet; die Rechnung selbst stellt Stripe bereit.", "As Stripe reports them; the invoice itself comes from Stripe.")) }
                thead { tr {
                    th scope="col" { (t("Zeitraum", "Period")) }
                    th scope="col" class="num" { (t("Netto", "Net")) }
                    th scope="col" class="num" { (t("Gesamt", "Total")) }
                    th scope="col" { (t("Stand", "State")) }
                } }
                tbody {
                    @for invoice in &invoices {
                        tr {
                            td { (date(lang, invoice.period_start)) " – " (date(lang, invoice.period_end)) }
                            td class="num" { (money(lang, &Money::new(invoice.net_amount, invoice.currency))) }
                            td class="num" { (money(lang, &Money::new(invoice.total, invoice.currency))) }
                            td { (invoice_status(invoice.status)) }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::new(t("Abrechnung", "Billing"), body).nav(nav(&viewer, &tenant)))
}
