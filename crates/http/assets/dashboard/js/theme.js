// Light or dark: this browser's choice, kept here, or the system's when none was made (and
// following it when it changes). The stylesheet reads `data-theme` on the root element.
const KEY = 'wasl.theme';
const THEMES = ['system', 'light', 'dark'];
const systemDark = window.matchMedia('(prefers-color-scheme: dark)');

export function getTheme() {
  const chosen = localStorage.getItem(KEY);
  return THEMES.includes(chosen) ? chosen : 'system';
}

export function setTheme(theme) {
  if (theme === 'system') localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, theme);
  applyTheme();
}

export function applyTheme() {
  const theme = getTheme();
  const dark = theme === 'dark' || (theme === 'system' && systemDark.matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

systemDark.addEventListener('change', applyTheme);
