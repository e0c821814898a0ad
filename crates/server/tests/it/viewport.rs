//! Sizing Chromium's viewport exactly (through the DevTools protocol), full-page screenshots, and
//! what a page must satisfy to fit: no sideways scrolling, every visible control in view.

use std::path::PathBuf;

use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction};
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use reqwest::{Method, Url};
use serde_json::{json, Value};

use crate::chromium::Browser;

/// A viewport the pages must fit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Viewport {
    pub(crate) name: &'static str,
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// Narrow enough that the Menu button stands in for the navigation.
    pub(crate) menu: bool,
}

pub(crate) const PHONE: Viewport = Viewport {
    name: "phone",
    width: 390,
    height: 844,
    menu: true,
};

/// A tablet, or a narrow desktop window: checked, but not photographed.
pub(crate) const TABLET: Viewport = Viewport {
    name: "tablet",
    width: 820,
    height: 1180,
    menu: true,
};

pub(crate) const DESKTOP: Viewport = Viewport {
    name: "desktop",
    width: 1280,
    height: 800,
    menu: false,
};

/// A Chrome DevTools command sent through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &Url,
        session: Option<&str>,
    ) -> Result<Url, <Url as std::str::FromStr>::Err> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _url: &Url) -> (Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (Method::POST, Some(body.to_string()))
    }
}

pub(crate) async fn cdp(b: &Browser, cmd: &'static str, params: Value) -> Value {
    b.client
        .issue_cmd(Cdp { cmd, params })
        .await
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

/// Sizes the page's viewport exactly (a window's size would include the browser's frame) and
/// checks that the page sees that width.
pub(crate) async fn set_viewport(b: &Browser, v: Viewport) {
    cdp(
        b,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": v.width, "height": v.height, "deviceScaleFactor": 1, "mobile": false }),
    )
    .await;
    let seen = b
        .js("return [window.innerWidth, window.innerHeight];")
        .await;
    assert_eq!(
        seen,
        json!([v.width, v.height]),
        "the {} viewport is {}×{}",
        v.name,
        v.width,
        v.height
    );
}

/// Saves the whole page, not only what the viewport shows: the viewport is made as tall as the
/// page for the picture (so the player bar sits at its bottom), then set back.
pub(crate) async fn screenshot(b: &Browser, v: Viewport, name: &str) {
    // The pointer rests on the bar's brand, so no link shows its hover colour.
    b.client
        .perform_actions(
            MouseActions::new("mouse".to_owned()).then(PointerAction::MoveTo {
                duration: None,
                x: 1,
                y: 1,
            }),
        )
        .await
        .unwrap();
    let height = b
        .js("return Math.max(document.documentElement.scrollHeight, window.innerHeight);")
        .await
        .as_u64()
        .unwrap();
    cdp(
        b,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": v.width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
    )
    .await;
    let png = b.client.screenshot().await.unwrap();
    set_viewport(b, v).await;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// What does not fit: the page's widths, every box that scrolls sideways (a table too wide for
/// its frame), and every visible control outside the viewport or outside a box of its that clips.
pub(crate) const FIT: &str = r#"
const vw = window.innerWidth;
const doc = document.documentElement;
const describe = (e) => {
  let s = e.tagName.toLowerCase();
  if (e.id) s += '#' + e.id;
  for (const c of e.classList) s += '.' + c;
  const t = (e.getAttribute('aria-label') || e.innerText || e.value || '').trim().replace(/\s+/g, ' ').slice(0, 40);
  return t ? s + ' "' + t + '"' : s;
};
const outside = [];
for (const e of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (!e.checkVisibility({ visibilityProperty: true })) continue;
  let left = 0, right = vw;
  for (let a = e.parentElement; a && a !== doc && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') {
      const ar = a.getBoundingClientRect();
      left = Math.max(left, ar.left);
      right = Math.min(right, ar.right);
    }
  }
  if (r.left < left - 0.5 || r.right > right + 0.5) {
    outside.push(describe(e) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right)
      + ' where ' + Math.round(left) + '..' + Math.round(right) + ' shows');
  }
}
const scrollers = [];
for (const e of document.querySelectorAll('body *')) {
  const o = getComputedStyle(e).overflowX;
  if ((o === 'auto' || o === 'scroll') && e.scrollWidth > e.clientWidth + 1 && e.checkVisibility()) {
    scrollers.push(describe(e).slice(0, 60) + ' scrolls sideways (' + e.scrollWidth + ' > ' + e.clientWidth + ')');
  }
}
return { innerWidth: vw, scrollWidth: doc.scrollWidth, outside, scrollers };
"#;

/// Checks the page as it is now; returns what is wrong, each line naming the page and size.
pub(crate) async fn fit(b: &Browser, label: &str) -> Vec<String> {
    let v = b.js(FIT).await;
    let mut problems = Vec::new();
    let (inner, scroll) = (
        v["innerWidth"].as_i64().unwrap(),
        v["scrollWidth"].as_i64().unwrap(),
    );
    if scroll > inner {
        problems.push(format!(
            "{label}: scrolls sideways (scrollWidth {scroll} > innerWidth {inner})"
        ));
    }
    for o in v["scrollers"].as_array().unwrap() {
        problems.push(format!("{label}: {}", o.as_str().unwrap()));
    }
    for o in v["outside"].as_array().unwrap() {
        problems.push(format!("{label}: {}", o.as_str().unwrap()));
    }
    problems
}

/// Whether each of these elements is displayed (has a box).
pub(crate) async fn shown(b: &Browser, css: &str) -> Vec<bool> {
    let v = b
        .js(&format!(
            "return [...document.querySelectorAll({css:?})].map(e => e.getClientRects().length > 0);"
        ))
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_bool().unwrap())
        .collect()
}

pub(crate) async fn press(b: &Browser, key: Key) {
    let k: char = key.into();
    b.client
        .perform_actions(
            KeyActions::new("keyboard".to_owned())
                .then(KeyAction::Down { value: k })
                .then(KeyAction::Up { value: k }),
        )
        .await
        .unwrap();
}

/// The active element's id and its outline (style, width in px, colour).
pub(crate) async fn focused(b: &Browser) -> (String, String, f64, String) {
    let v = b
        .js("const e = document.activeElement; const s = getComputedStyle(e); return [e.id, s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor];")
        .await;
    (
        v[0].as_str().unwrap().to_owned(),
        v[1].as_str().unwrap().to_owned(),
        v[2].as_f64().unwrap(),
        v[3].as_str().unwrap().to_owned(),
    )
}

/// The relative luminance of a CSS `rgb()`/`rgba()` colour.
pub(crate) fn luminance(css: &str) -> f64 {
    let inner = css
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')');
    let c: Vec<f64> = inner
        .split(',')
        .take(3)
        .map(|x| x.trim().parse::<f64>().unwrap() / 255.0)
        .map(|x| {
            if x <= 0.03928 {
                x / 12.92
            } else {
                ((x + 0.055) / 1.055).powf(2.4)
            }
        })
        .collect();
    assert_eq!(c.len(), 3, "a colour: {css}");
    0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
}

/// Checks the page shown now at both sizes, saving `{name}-phone.png` and `{name}-desktop.png`;
/// ends at the desktop's size, where the navigation (and Sign out) is in view.
pub async fn at_both_sizes(b: &Browser, name: &str, problems: &mut Vec<String>) {
    for v in [PHONE, DESKTOP] {
        set_viewport(b, v).await;
        problems.extend(fit(b, &format!("{name} ({})", v.name)).await);
        screenshot(b, v, &format!("{name}-{}", v.name)).await;
    }
}
