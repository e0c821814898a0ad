// The top bar's menu on narrow screens: the Menu button shows and hides the navigation and the
// sign-out button. Loaded in the head without `defer`, so the document is marked before its first
// paint (the stylesheet folds the navigation only on marked documents); the button is wired once
// the page is parsed. Escape closes the open menu.
(function () {
  'use strict';
  document.documentElement.classList.add('has-menu');

  function setUp() {
    var header = document.querySelector('header.site');
    var toggle = document.getElementById('menu-toggle');
    var menu = document.getElementById('site-menu');
    if (!header || !toggle || !menu) return;

    function isOpen() {
      return toggle.getAttribute('aria-expanded') === 'true';
    }

    function set(open) {
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      header.classList.toggle('menu-open', open);
    }

    toggle.addEventListener('click', function () {
      set(!isOpen());
    });

    document.addEventListener('keydown', function (e) {
      if (e.key !== 'Escape' || !isOpen()) return;
      var inside = menu.contains(document.activeElement) || document.activeElement === toggle;
      set(false);
      if (inside) toggle.focus();
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', setUp);
  } else {
    setUp();
  }
})();
