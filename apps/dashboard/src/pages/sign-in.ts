import { h } from '../dom.ts';

/** The form's parts: the token field, the error line, the button, and the form holding them. */
function signInForm(problem: string | undefined) {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    spellcheck: 'false',
    'aria-describedby': 'token-help',
  });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, problem ?? '');
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { method: 'post', action: '#', class: 'signin' },
    h('label', { for: 'token' }, 'Token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'muted' },
      'A token of this coordinator (any role can look; maintainers can also cancel and retry). It stays in ' +
        'this browser tab until you sign out or close it.',
    ),
    button,
    error,
  );
  return { input, error, button, form };
}

/**
 * The sign-in page: a token from `[[tokens]]` (any role may read). The form
 * posts nowhere: `signIn` checks the token (GET /whoami) and keeps it in
 * sessionStorage, never in the address bar or history; when it refuses, the form says why.
 */
export function renderSignIn(root: HTMLElement, signIn: (token: string) => Promise<void>, problem?: string): void {
  const { input, error, button, form } = signInForm(problem);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    error.textContent = '';
    signIn(token).catch((e: Error) => {
      error.textContent = `Sign-in failed: ${e.message}`;
      button.disabled = false;
      input.focus();
    });
  });
  root.replaceChildren(
    h(
      'main',
      { id: 'main', class: 'signin-page' },
      h('h1', null, h('span', { class: 'logo', 'aria-hidden': 'true' }, '⚙'), ' aoinb build farm'),
      form,
    ),
  );
  input.focus();
}
