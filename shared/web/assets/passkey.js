// Passkeys, the site's one script. Every page works without it (the app's code and recovery
// codes sign in; the account page says passkeys need it). With it, a form marked
// data-passkey="get" (sign-in) or "create" (registration) asks the browser for the passkey and
// posts the browser's answer in its `credential` field; the server checks everything.
const withoutNulls = (value) => JSON.parse(JSON.stringify(value, (_key, v) => (v === null ? undefined : v)));

const supported =
  typeof window.PublicKeyCredential === 'function' &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
  typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';

for (const form of document.querySelectorAll('form[data-passkey]')) {
  const status = document.getElementById(form.dataset.status);
  if (!supported) {
    if (status) status.textContent = form.dataset.unsupported;
    continue;
  }
  form.hidden = false;
  const button = form.querySelector('button[type=submit]');
  form.addEventListener('submit', async (event) => {
    if (form.elements.credential.value) return;
    event.preventDefault();
    if (!form.reportValidity()) return;
    button.disabled = true;
    if (status) status.textContent = form.dataset.waiting;
    try {
      const options = withoutNulls(JSON.parse(form.elements.passkey_options.value)).publicKey;
      const credential =
        form.dataset.passkey === 'create'
          ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
          : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      form.elements.credential.value = JSON.stringify(credential.toJSON());
      form.submit();
    } catch (error) {
      button.disabled = false;
      if (status) status.textContent = `${form.dataset.failed} (${error.name})`;
    }
  });
}
