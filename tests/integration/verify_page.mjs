// verify_page.mjs - the public verifier page in a real browser: Debian's
// Chromium, headless, driven by playwright-core. Run by wallet_test.py as
//   node verify_page.mjs BASE_URL CRED.json SHARE_TOKEN CHROMIUM
// It chooses the credential file (verified), drops a tampered copy onto
// the drop zone (not verified, the signature check failed), opens
// /verify.html#token=SHARE_TOKEN (verified), and switches to English. Any
// console error, page error or CSP violation fails. Prints one JSON line
// with what it saw; exit 0 when all held, 1 when not, 2 on a setup error.
import fs from 'node:fs';
import {launch, watchErrors} from './web_lib.mjs';

const [base, credFile, token, exe] = process.argv.slice(2);
if (!base || !credFile || !token || !exe) {
  console.error('usage: node verify_page.mjs BASE_URL CRED.json SHARE_TOKEN CHROMIUM');
  process.exit(2);
}
const cred = fs.readFileSync(credFile, 'utf8');
const tampered = JSON.parse(cred);
tampered.credentialSubject.result[0].value = '10';

const seen = {errors: []};
const browser = await launch(exe);
try {
  const page = await browser.newPage();
  watchErrors(page, seen);

  const verdict = async () => {
    await page.waitForSelector('#verdict', {timeout: 15000});
    return page.evaluate(() => {
      const v = document.getElementById('verdict');
      const checks = [...document.querySelectorAll('li.check')].map(
        (li) => [li.dataset.check, li.classList.contains('ok')]);
      return {text: v.textContent, ok: v.classList.contains('ok'), checks};
    });
  };

  // 1. choose the downloaded file
  await page.goto(base + '/verify.html');
  seen.lang = await page.evaluate(() => document.documentElement.lang);
  await page.setInputFiles('#file', {name: 'credential.json', mimeType: 'application/json',
    buffer: Buffer.from(cred)});
  seen.file = await verdict();

  // 2. drop a tampered copy onto the drop zone
  await page.goto(base + '/verify.html');
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'tampered.json', {type: 'application/json'}));
    const drop = document.getElementById('drop');
    for (const type of ['dragenter', 'dragover', 'drop'])
      drop.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
  }, JSON.stringify(tampered));
  seen.tampered = await verdict();

  // 3. a share link in the address (a fresh load; then the same by a hash change)
  await page.goto('about:blank');
  await page.goto(base + '/verify.html#token=' + token);
  seen.share = await verdict();

  await page.goto(base + '/verify.html');
  await page.evaluate((t) => { location.hash = '#token=' + t; }, token);
  seen.shareByHash = await verdict();

  // 4. English
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  seen.english = await page.evaluate(() => document.querySelector('h1').textContent);
  seen.englishVerdict = (await verdict()).text;
} catch (e) {
  seen.errors.push('driver: ' + e.message);
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
const good = (v) => v && v.ok && v.checks.length === 6 && v.checks.every((c) => c[1]);
const held = seen.errors.length === 0 && seen.lang === 'vi' && good(seen.file) &&
  seen.tampered && !seen.tampered.ok &&
  seen.tampered.checks.some((c) => c[0] === 'proof' && !c[1]) && good(seen.share) && good(seen.shareByHash) &&
  seen.english === 'Verify a credential' && /^Verified/.test(seen.englishVerdict || '');
process.exit(held ? 0 : 1);
