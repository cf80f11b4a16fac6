// Live countdowns for the console's deadlines. Without this script every countdown is right as
// of the page load (the server wrote it); with it, each one ticks on from the server's time of
// rendering (so the platform's clock decides, not the browser's), turns amber within a day and
// red close to the end, and says when it has passed. A button stops and restarts the updates
// (WCAG 2.2.2: auto-updating content can be paused).
const countdowns = [...document.querySelectorAll('[data-due]')];
const control = document.getElementById('countdown-control');
const loadedAt = Date.now();

const text = (minutes) => {
  const hours = Math.floor(minutes / 60);
  const rest = String(minutes % 60).padStart(2, '0');
  if (hours >= 96) return `${Math.floor(hours / 24)} d ${hours % 24} h`;
  if (hours > 0) return `${hours} h ${rest} min`;
  return `${minutes % 60} min`;
};

const tick = () => {
  for (const el of countdowns) {
    const now = Date.parse(el.dataset.now) + (Date.now() - loadedAt);
    const left = Date.parse(el.dataset.due) - now;
    const status = el.parentElement?.querySelector('.status');
    if (left <= 0) {
      el.textContent = el.dataset.passed; // the server says met or missed on the next load
      status?.classList.remove('good', 'warn');
      status?.classList.add('bad');
      continue;
    }
    const figure = el.querySelector('strong');
    if (figure) figure.textContent = text(Math.floor(left / 60000));
    const hours = left / 3600000;
    const urgency = hours < Number(el.dataset.urgent) ? 'bad' : hours < 24 ? 'warn' : 'good';
    status?.classList.remove('good', 'warn', 'bad');
    status?.classList.add(urgency);
  }
};

if (countdowns.length > 0) {
  let timer = setInterval(tick, 15000);
  tick();
  if (control) {
    control.hidden = false;
    control.addEventListener('click', () => {
      if (timer) {
        clearInterval(timer);
        timer = null;
        control.textContent = control.dataset.resume;
        control.setAttribute('aria-pressed', 'true');
      } else {
        timer = setInterval(tick, 15000);
        tick();
        control.textContent = control.dataset.pause;
        control.setAttribute('aria-pressed', 'false');
      }
    });
  }
}
