//! The web pages driven through real headless Chromium over WebDriver (chromedriver + fantoccini).
//! Each test starts its own chromedriver; each browser "context" is a separate WebDriver session
//! with its own profile folder. Every page visited is saved as a PNG under
//! `test-artifacts/screenshots/` in the workspace.

use std::panic::AssertUnwindSafe;

use crate::chromium::{finish, Driver};
use clef_accounts::Actor;
use clef_testkit::TestServer;
use fantoccini::Locator;
use futures::FutureExt;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn sign_in_then_devices_account_and_security_pages() {
    let server = TestServer::start().await;
    server.create_user("anna", PASSWORD, false).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.goto(&server, "/").await;
        b.wait("form[action='/signin']").await;
        assert_eq!(
            b.path().await,
            "/signin",
            "signed-out visitors are sent to sign in"
        );
        b.screenshot("signin").await;

        b.sign_in(&server, "anna", PASSWORD, "").await;
        b.goto(&server, "/devices").await;
        b.wait("table#devices").await;
        let rows = b.find_all("table#devices tbody tr").await;
        assert_eq!(rows.len(), 1, "exactly one device");
        let badge = rows[0]
            .find(Locator::Css(".this-device"))
            .await
            .expect("the row is marked as this device");
        assert_eq!(badge.text().await.unwrap(), "This device");
        let name = rows[0]
            .find(Locator::Css(".device-name"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            name.ends_with("on Linux"),
            "a name derived from the User-Agent, got {name:?}"
        );
        b.screenshot("devices").await;

        b.client
            .find(Locator::LinkText("Account"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait_path("/account").await;
        b.wait("#change-password").await;
        assert_eq!(
            b.find("#account-username").await.text().await.unwrap(),
            "anna"
        );
        b.screenshot("account").await;

        b.client
            .find(Locator::LinkText("Security"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait("table#events").await;
        let what = b.texts("table#events td.what").await;
        assert_eq!(
            what,
            ["Signed in from a new device"],
            "the one sign-in is listed once, as from a new device"
        );
        b.screenshot("security").await;

        assert!(
            b.find_all("a[href='/admin/users']").await.is_empty(),
            "no Admin link for a listener"
        );
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}

#[tokio::test]
async fn signing_out_another_browser_tells_it_why() {
    let server = TestServer::start().await;
    server.create_user("ben", PASSWORD, false).await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let outcome = AssertUnwindSafe(async {
        a.sign_in(&server, "ben", PASSWORD, "Browser A").await;
        b.sign_in(&server, "ben", PASSWORD, "Browser B").await;

        a.goto(&server, "/devices").await;
        a.wait("table#devices").await;
        assert_eq!(a.find_all("table#devices tbody tr").await.len(), 2);
        let other = a.find("table#devices tbody tr:not(.current)").await;
        assert_eq!(
            other
                .find(Locator::Css(".device-name"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "Browser B"
        );
        a.screenshot("devices-two-browsers").await;
        other
            .find(Locator::Css("button.sign-out-device"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // A confirmation first: Cancel changes nothing.
        let title = a.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Sign out Browser B?");
        a.screenshot("devices-confirm-sign-out").await;
        a.find("#confirm-cancel").await.click().await.unwrap();
        a.wait("table#devices").await;
        assert_eq!(a.find_all("table#devices tbody tr").await.len(), 2);
        a.find("table#devices tbody tr:not(.current) button.sign-out-device")
            .await
            .click()
            .await
            .unwrap();
        a.wait("#confirm-title").await;
        a.find("#confirm-yes").await.click().await.unwrap();
        a.wait_text("notice", "The device was signed out.").await;
        let names = a.texts("table#devices tbody tr .device-name").await;
        assert_eq!(names, ["Browser A"]);
        a.screenshot("devices-after-signing-out-other").await;

        b.goto(&server, "/devices").await;
        b.wait_path("/signin").await;
        let reason = b.wait("#signed-out-reason").await;
        assert_eq!(reason.text().await.unwrap(), "This device was signed out.");
        b.screenshot("signin-signed-out-by-other-device").await;
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![a, b]).await;
}

#[tokio::test]
async fn sign_out_everywhere_keeping_this_browser() {
    let server = TestServer::start().await;
    server.create_user("cleo", PASSWORD, false).await;
    let driver = Driver::start().await;
    let (a, b) = (driver.browser().await, driver.browser().await);
    let outcome = AssertUnwindSafe(async {
        a.sign_in(&server, "cleo", PASSWORD, "Browser A").await;
        b.sign_in(&server, "cleo", PASSWORD, "Browser B").await;

        a.goto(&server, "/account").await;
        a.wait("#sign-out-everywhere").await;
        let keep = a.find("#keep_current").await;
        if !keep.is_selected().await.unwrap() {
            keep.click().await.unwrap();
        }
        assert!(keep.is_selected().await.unwrap());
        a.find("#sign-out-everywhere button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        let title = a.wait("#confirm-title").await.text().await.unwrap();
        assert_eq!(title, "Sign out every other device?");
        a.find("#confirm-yes").await.click().await.unwrap();
        a.wait_text(
            "notice",
            "Signed out 1 other device. This one stays signed in.",
        )
        .await;
        assert_eq!(a.path().await, "/devices");

        b.goto(&server, "/devices").await;
        b.wait_path("/signin").await;
        let reason = b.wait("#signed-out-reason").await;
        assert_eq!(
            reason.text().await.unwrap(),
            "You were signed out everywhere from another device."
        );
        b.screenshot("signin-signed-out-everywhere").await;

        a.goto(&server, "/devices").await;
        a.wait("table#devices").await;
        assert_eq!(
            a.path().await,
            "/devices",
            "the browser that kept itself is still signed in"
        );
        assert_eq!(
            a.texts("table#devices tbody tr .device-name").await,
            ["Browser A"]
        );
        assert_eq!(
            a.find_all("table#devices tbody tr .this-device")
                .await
                .len(),
            1
        );
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![a, b]).await;
}

#[tokio::test]
async fn device_limit_page_frees_a_slot_and_continues() {
    let server = TestServer::start().await;
    server.create_user("dora", PASSWORD, false).await;
    server
        .accounts
        .set_limits(Actor::Console, "dora", Some(2), None)
        .await
        .unwrap();
    let phone_one = server.token("dora", PASSWORD, "Phone one").await;
    let phone_two = server.token("dora", PASSWORD, "Phone two").await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.goto(&server, "/signin").await;
        b.wait("form[action='/signin']").await;
        b.fill("#username", "dora").await;
        b.fill("#password", PASSWORD).await;
        b.find("form[action='/signin'] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        let heading = b.wait("#device-limit").await;
        assert_eq!(heading.text().await.unwrap(), "Device limit reached");
        let names = b.texts("tr[data-device-id] td.name").await;
        assert_eq!(
            names.len(),
            2,
            "both devices holding the slots are listed: {names:?}"
        );
        assert!(
            names.contains(&"Phone one".to_owned()) && names.contains(&"Phone two".to_owned()),
            "{names:?}"
        );
        b.screenshot("device-limit").await;

        let mut freed = None;
        for r in b.find_all("tr[data-device-id]").await {
            if r.find(Locator::Css("td.name"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
                == "Phone one"
            {
                freed = Some(r);
            }
        }
        let freed = freed.expect("a row for Phone one");
        let button = freed.find(Locator::Css("button.replace")).await.unwrap();
        assert_eq!(
            button.text().await.unwrap(),
            "Sign out this one and continue"
        );
        let freed_id = button
            .attr("data-device-id")
            .await
            .unwrap()
            .expect("the button names its device");
        button.click().await.unwrap();

        b.wait_path("/library").await;
        b.wait("body.app main h1").await;
        b.goto(&server, "/devices").await;
        b.wait("table#devices").await;
        let rows = b.find_all("table#devices tbody tr").await;
        assert_eq!(rows.len(), 2);
        assert_eq!(
            b.find_all("table#devices tbody tr .this-device")
                .await
                .len(),
            1
        );
        let mut ids = Vec::new();
        for r in &rows {
            ids.push(r.attr("data-device-id").await.unwrap().unwrap_or_default());
        }
        assert!(!ids.contains(&freed_id), "the freed device is gone");
        let names = b.texts("table#devices tbody tr .device-name").await;
        assert!(
            names.contains(&"Phone two".to_owned()) && !names.contains(&"Phone one".to_owned()),
            "{names:?}"
        );
        b.screenshot("devices-after-device-limit").await;
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;

    let (status, body) = server.get(&phone_one, "/api/v1/devices").await;
    assert_eq!(status, 401, "the freed device is signed out: {body}");
    assert_eq!(body["reason"], "replaced_at_device_limit");
    let (status, _) = server.get(&phone_two, "/api/v1/devices").await;
    assert_eq!(status, 200, "the other device is untouched");
}

#[tokio::test]
async fn admin_creates_a_user_and_sets_its_limits() {
    let server = TestServer::start().await;
    server.create_user("root", PASSWORD, true).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    let outcome = AssertUnwindSafe(async {
        b.sign_in(&server, "root", PASSWORD, "Admin laptop").await;
        b.client
            .find(Locator::LinkText("Admin"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait_path("/admin/users").await;
        b.wait("#create-user").await;

        b.fill("#new-username", "erin").await;
        b.fill("#new-password", "a long enough password").await;
        b.find("#create-user button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        b.wait_text("notice", "User created.").await;
        let row = b.find("tr[data-username='erin']").await;
        assert_eq!(
            row.find(Locator::Css("td.state"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "Active"
        );

        let input = row
            .find(Locator::Css("input[name=max_devices]"))
            .await
            .unwrap();
        input.clear().await.unwrap();
        input.send_keys("3").await.unwrap();
        row.find(Locator::Css("form.limits button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait_text("notice", "Limits saved.").await;
        let cell = b.find("tr[data-username='erin'] td.max-devices").await;
        assert_eq!(cell.text().await.unwrap(), "3");
        b.screenshot("admin-users").await;

        let erin = server.accounts.user(Actor::Console, "erin").await.unwrap();
        assert_eq!(erin.max_devices, 3);
        assert!(!erin.is_admin);

        b.goto(&server, "/admin/security").await;
        b.wait("table#events").await;
        let users = b.texts("table#events td.user").await;
        assert!(
            users.iter().any(|u| u == "erin") && users.iter().any(|u| u == "root"),
            "{users:?}"
        );
        b.screenshot("admin-security").await;
    })
    .catch_unwind()
    .await;
    finish(outcome, vec![b]).await;
}
