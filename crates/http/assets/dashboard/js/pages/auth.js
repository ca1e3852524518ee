// Sign-in and registration.
import { t } from '../i18n.js';
import { api, auth, replacingToken } from '../api.js';
import { h, icon, openDialog, toast, toastError } from '../ui.js';
import { BASE, langButton, navigate, signedIn } from '../app.js';

function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label', text: label }), input,
    hint ? h('small', { class: 'field-hint', text: hint }) : null);
}

function frame(title, subtitle, form, footer) {
  return h('div', { class: 'auth' },
    h('section', { class: 'auth-hero' },
      h('div', { class: 'auth-hero-inner' },
        h('img', { src: `${BASE}/assets/logo.svg`, alt: '', width: 64, height: 64 }),
        h('h1', { text: t('appName') }),
        h('p', { class: 'auth-tagline', text: t('tagline') }),
        h('ul', { class: 'auth-points' },
          ['authSide1', 'authSide2', 'authSide3'].map((k) => h('li', {}, icon('check', { size: 18 }), h('span', { text: t(k) })))))),
    h('section', { class: 'auth-panel' },
      h('div', { class: 'auth-top' }, langButton()),
      h('div', { class: 'auth-card' },
        h('div', { class: 'auth-mark' }, h('img', { src: `${BASE}/assets/logo.svg`, alt: '', width: 44, height: 44 })),
        h('h2', { text: title }),
        h('p', { class: 'muted', text: subtitle }),
        form,
        h('p', { class: 'auth-switch' }, footer))));
}

async function submitWith(form, button, call) {
  button.disabled = true;
  button.classList.add('busy');
  try {
    signedIn(await call(Object.fromEntries(new FormData(form))));
  } catch (err) {
    toastError(err);
    button.disabled = false;
    button.classList.remove('busy');
  }
}

function switchLink(text, action, route) {
  return [h('span', { text: `${text} ` }),
    h('a', { href: `${BASE}/${route}`, 'data-action': `go-${route}`, onclick: (e) => { e.preventDefault(); navigate(route); } }, action)];
}

export function login(root) {
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('loginAction'));
  const form = h('form', { id: 'login-form', class: 'form', novalidate: false },
    field(t('email'), h('input', { name: 'email', type: 'email', required: true, autocomplete: 'username', dir: 'ltr' })),
    field(t('password'), h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password', dir: 'ltr' })),
    button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitWith(form, button, (body) => api('POST', '/auth/login', { json: body }));
  });
  root.append(frame(t('loginTitle'), t('loginSubtitle'), form, switchLink(t('noAccount'), t('createOne'), 'register')));
  form.querySelector('input').focus();
  return null;
}

export function register(root) {
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('registerAction'));
  const form = h('form', { id: 'register-form', class: 'form' },
    field(t('organizationName'), h('input', { name: 'organizationName', required: true, autocomplete: 'organization' })),
    field(t('yourName'), h('input', { name: 'name', required: true, autocomplete: 'name' })),
    field(t('email'), h('input', { name: 'email', type: 'email', required: true, autocomplete: 'username', dir: 'ltr' })),
    field(t('password'), h('input', { name: 'password', type: 'password', required: true, minlength: 8, autocomplete: 'new-password', dir: 'ltr' }), t('passwordHint')),
    button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitWith(form, button, (body) => api('POST', '/auth/register', { json: body }));
  });
  root.append(frame(t('registerTitle'), t('registerSubtitle'), form, switchLink(t('haveAccount'), t('signIn'), 'login')));
  form.querySelector('input').focus();
  return null;
}

/** Changes the signed-in person's password; the server ends their other sign-ins and gives
 *  this device a new token. */
export function changePasswordDialog() {
  openDialog({
    title: t('changePassword'),
    build: (close) => {
      const button = h('button', { type: 'submit', class: 'btn btn-primary' }, t('changePassword'));
      const form = h('form', { id: 'password-form', class: 'form' },
        field(t('currentPassword'), h('input', { name: 'currentPassword', type: 'password', required: true, autocomplete: 'current-password', dir: 'ltr' })),
        field(t('newPassword'), h('input', { name: 'newPassword', type: 'password', required: true, minlength: 8, maxlength: 128, autocomplete: 'new-password', dir: 'ltr' }),
          `${t('passwordHint')}. ${t('changePasswordHint')}`),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')),
          button));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        button.disabled = true;
        try {
          const body = Object.fromEntries(new FormData(form));
          await replacingToken(api('PUT', '/auth/password', { json: body }).then((data) => auth.set(data.token)));
          close();
          toast(t('passwordChanged'), 'success');
        } catch (err) {
          toastError(err);
          button.disabled = false;
        }
      });
      setTimeout(() => form.querySelector('input').focus(), 0);
      return form;
    },
  });
}
