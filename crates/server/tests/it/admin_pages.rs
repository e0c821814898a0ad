//! The admin's user actions walked in Chromium as a person would: each destructive one asks
//! first, a temporary password makes its owner choose a new one at the next sign-in, and a
//! deleted user is gone from the list.

use std::panic::AssertUnwindSafe;

use clef_accounts::Actor;
use clef_testkit::TestServer;
use futures::FutureExt;

use crate::chromium::{click, finish, Driver};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_temporary_password_from_the_admin_page_is_replaced_at_the_next_sign_in() {
    let server = TestServer::start().await;
    server.create_user("root", PASSWORD, true).await;
    server.create_user("finn", PASSWORD, false).await;
    let driver = Driver::start().await;
    let (admin, finn) = (driver.browser().await, driver.browser().await);
    let outcome = AssertUnwindSafe(async {
        finn.sign_in(&server, "finn", PASSWORD, "Finn's laptop").await;
        admin.sign_in(&server, "root", PASSWORD, "Admin laptop").await;
        admin.goto(&server, "/admin/users").await;
        click(&admin, "tr[data-username='finn'] button.reset-password").await;
        let title = admin.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Give finn a temporary password?");
        admin.screenshot("admin-confirm-reset-password").await;
        admin.fill("#temporary-password", "temporary pass 1").await;
        click(&admin, "#confirm-yes").await;
        admin
            .wait_text(
                "notice",
                "Temporary password set and every device of theirs signed out. They choose a new password at their next sign-in.",
            )
            .await;

        // Finn's browser was signed out, and signing in leads to choosing a password.
        finn.goto(&server, "/library").await;
        let reason = finn.wait("#signed-out-reason").await.text().await.unwrap();
        assert_eq!(reason, "The password was reset, so every device was signed out.");
        finn.fill("#username", "finn").await;
        finn.fill("#password", "temporary pass 1").await;
        click(&finn, "form[action='/signin'] button[type=submit]").await;
        finn.wait_path("/account/new-password").await;
        finn.wait("#new-password-title").await;
        finn.screenshot("new-password").await;
        // Every other page sends the browser back here.
        finn.goto(&server, "/devices").await;
        finn.wait("#new-password-title").await;
        finn.fill("#current_password", "temporary pass 1").await;
        finn.fill("#new_password", "finn's own passphrase").await;
        finn.fill("#confirm_password", "finn's own passphrase").await;
        click(&finn, "form[action='/account/new-password'] button[type=submit]").await;
        finn.wait_path("/library").await;
        finn.wait("#sign-out").await;
        let user = server.accounts.user(Actor::Console, "finn").await.unwrap();
        assert!(!user.must_change_password);
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![admin, finn]).await;
}

#[tokio::test]
async fn deleting_and_demoting_ask_first() {
    let server = TestServer::start().await;
    server.create_user("root", PASSWORD, true).await;
    server.create_user("gus", PASSWORD, true).await;
    server.create_user("hana", PASSWORD, false).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.sign_in(&server, "root", PASSWORD, "Admin laptop").await;
        b.goto(&server, "/admin/users").await;
        // Every field of a row has a label a person can see.
        for id in ["max_devices-hana", "max_streams-hana"] {
            let label = b.find(&format!("label[for='{id}']")).await;
            assert!(label.is_displayed().await.unwrap(), "{id}");
        }

        click(&b, "tr[data-username='hana'] button.delete").await;
        let title = b.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Delete hana?");
        b.screenshot("admin-confirm-delete").await;
        click(&b, "#confirm-cancel").await;
        b.wait("tr[data-username='hana']").await;

        click(&b, "tr[data-username='hana'] button.delete").await;
        b.wait("#confirm-title").await;
        click(&b, "#confirm-yes").await;
        b.wait("#notice").await;
        assert!(b.find_all("tr[data-username='hana']").await.is_empty());
        assert!(server.accounts.user(Actor::Console, "hana").await.is_err());

        click(&b, "tr[data-username='gus'] button.remove-admin").await;
        let title = b.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Remove admin rights from gus?");
        click(&b, "#confirm-yes").await;
        b.wait_text("notice", "The user is no longer an admin.").await;
        assert!(!server.accounts.user(Actor::Console, "gus").await.unwrap().is_admin);
        // Root, now the only admin, has no buttons to remove itself.
        assert!(b
            .find_all("tr[data-username='root'] button.remove-admin, tr[data-username='root'] button.delete")
            .await
            .is_empty());
        b.screenshot("admin-users-after").await;
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}
