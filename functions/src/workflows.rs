//! What one request does across two areas, once for the API and the console: an account and
//! its invitation mail (auth and the outbox), a credit and its carrying to Stripe (billing and
//! the gateway this function links). Each step is the area's own call with its access check.

use crate::services::Services;

impl Services {
    /// A tenant's first customer admin, invited by an operator: the account (refused once the
    /// company has an admin) and the invitation mail with the activation link, queued in the
    /// outbox for that person only — the operator never holds the link. The API and the
    /// console both invite through here.
    pub async fn invite_first_admin(
        &self,
        access: &kernel::rbac::Access,
        tenant: &kernel::ids::TenantId,
        email: Option<String>,
        name: Option<String>,
    ) -> Result<auth::service::CreatedUser, kernel::Error> {
        let created = self
            .auth
            .invite_first_admin(access, tenant, email, name)
            .await?;
        self.mail_invitation(tenant, &created).await?;
        Ok(created)
    }

    /// A voluntary credit by billing staff, carried to Stripe at once where this function holds
    /// the Stripe client and the credit needs no second approver; otherwise it stays pending
    /// (or awaiting approval) for the scheduled credit application.
    pub async fn grant_voluntary_credit(
        &self,
        access: &kernel::rbac::Access,
        tenant: &kernel::ids::TenantId,
        input: billing::credits::VoluntaryCreditInput,
    ) -> Result<billing::credits::CreditRecord, kernel::Error> {
        let credit = self.credits.grant_voluntary(access, tenant, input).await?;
        self.carry(tenant, credit).await
    }

    /// The second billing approver agrees; the credit is then carried like any other.
    pub async fn approve_credit(
        &self,
        access: &kernel::rbac::Access,
        tenant: &kernel::ids::TenantId,
        id: &billing::credits::CreditId,
    ) -> Result<billing::credits::CreditRecord, kernel::Error> {
        let credit = self.credits.approve(access, tenant, id).await?;
        self.carry(tenant, credit).await
    }

    /// Tries to carry a pending credit now where this function holds the Stripe client; a
    /// failure, or no client, leaves it pending for the scheduled credit application.
    async fn carry(
        &self,
        tenant: &kernel::ids::TenantId,
        credit: billing::credits::CreditRecord,
    ) -> Result<billing::credits::CreditRecord, kernel::Error> {
        if !self.gateway.configured() {
            return Ok(credit);
        }
        match self
            .credits
            .apply(self.gateway.as_ref(), tenant, &credit.id)
            .await
        {
            Ok(carried) => Ok(carried),
            Err(e) => {
                tracing::warn!(target: "regrooter::billing", credit = %credit.id, error = %e, "credit stays pending");
                Ok(self.credits.get(tenant, &credit.id).await?.0)
            }
        }
    }

    /// A user of a tenant, invited by its admin in the portal: the account and the invitation
    /// mail, so the link reaches only the person (the admin never holds it and cannot sign in
    /// as them).
    pub async fn invite_tenant_user(
        &self,
        access: &kernel::rbac::Access,
        tenant: &kernel::ids::TenantId,
        input: auth::service::NewUserInput,
    ) -> Result<auth::service::CreatedUser, kernel::Error> {
        let created = self
            .auth
            .create_user(
                access,
                auth::Account::Customer {
                    tenant: tenant.clone(),
                },
                input,
            )
            .await?;
        self.mail_invitation(tenant, &created).await?;
        Ok(created)
    }

    /// Queues a tenant user's invitation mail in the outbox.
    async fn mail_invitation(
        &self,
        tenant: &kernel::ids::TenantId,
        created: &auth::service::CreatedUser,
    ) -> Result<(), kernel::Error> {
        let company = kernel::tenants::get(self.store.as_ref(), tenant)
            .await?
            .map_or_else(|| tenant.to_string(), |t| t.name);
        let activation = format!(
            "{}{}",
            self.config.public_url.trim_end_matches('/'),
            web::paths::ACTIVATE
        );
        let (subject, body) = auth::service::invitation_message(created, &company, &activation);
        self.incidents
            .queue_platform_message(
                format!("invitation-{}", created.user.id),
                incidents::outbox::Purpose::Invitation {
                    tenant: tenant.clone(),
                },
                &kernel::crypto::Personal::new(created.user.email.clone()),
                subject,
                &kernel::crypto::Personal::new(body),
            )
            .await?;
        Ok(())
    }

    /// A new staff member, invited by an operator: the account and the invitation mail with the
    /// activation link, queued in the outbox for that person only.
    pub async fn invite_staff(
        &self,
        access: &kernel::rbac::Access,
        input: auth::service::NewUserInput,
    ) -> Result<auth::service::CreatedUser, kernel::Error> {
        let created = self
            .auth
            .create_user(access, auth::Account::Staff, input)
            .await?;
        let activation = format!(
            "{}{}",
            self.config.public_url.trim_end_matches('/'),
            web::paths::ACTIVATE
        );
        let (subject, body) = auth::service::staff_invitation_message(&created, &activation);
        self.incidents
            .queue_platform_message(
                format!("staff-invitation-{}", created.user.id),
                incidents::outbox::Purpose::StaffInvitation {
                    user: created.user.id.to_string(),
                },
                &kernel::crypto::Personal::new(created.user.email.clone()),
                subject,
                &kernel::crypto::Personal::new(body),
            )
            .await?;
        Ok(created)
    }

    /// The second administrator approves a second-factor reset: the factors are removed
    /// (auth) and the person is told by mail (the outbox), so a reset they did not ask for
    /// does not go unnoticed.
    pub async fn approve_second_factor_reset(
        &self,
        access: &kernel::rbac::Access,
        account: &auth::Account,
        id: &auth::UserId,
    ) -> Result<auth::service::UserView, kernel::Error> {
        let user = self
            .auth
            .approve_second_factor_reset(access, account, id)
            .await?;
        let sign_in = format!(
            "{}{}",
            self.config.public_url.trim_end_matches('/'),
            web::paths::SIGN_IN
        );
        let (subject, body) = auth::service::second_factor_reset_message(
            &user,
            &sign_in,
            &self.config.security_contact,
        );
        self.incidents
            .queue_platform_message(
                format!(
                    "second-factor-reset-{}-{}",
                    user.id,
                    self.clock.now().as_second()
                ),
                incidents::outbox::Purpose::SecondFactorReset {
                    user: user.id.to_string(),
                },
                &kernel::crypto::Personal::new(user.email.clone()),
                subject,
                &kernel::crypto::Personal::new(body),
            )
            .await?;
        Ok(user)
    }

    /// Mails each deletion certificate not yet on its way to the tenant's breach contact (the
    /// retention job calls it after its stages): the message is queued under the certificate's
    /// id, so a second run after a crash queues nothing twice, and then the certificate lets go
    /// of the recipient. Returns how many were queued.
    pub async fn send_certificates(&self) -> Result<usize, kernel::Error> {
        let verify = format!(
            "{}{}",
            self.config.public_url.trim_end_matches('/'),
            crate::routes::keys::VERIFY_CERTIFICATE
        );
        let mut queued = 0;
        for (stored, to) in self.retention.certificates_to_send().await? {
            let c = &stored.certificate;
            let (subject, body) = retention::service::certificate_message(&stored, &verify);
            if self
                .incidents
                .queue_platform_message(
                    format!("certificate-{}", c.id),
                    incidents::outbox::Purpose::DeletionCertificate {
                        tenant: c.tenant.clone(),
                        certificate: c.id.to_string(),
                    },
                    &to,
                    subject,
                    &kernel::crypto::Personal::new(body),
                )
                .await?
            {
                queued += 1;
            }
            self.retention.certificate_sent(&c.tenant, &c.id).await?;
        }
        Ok(queued)
    }
}
