// web_admin.mjs - the admin, consent and recognition pages in a real
// browser: Debian's Chromium, headless (the flags), driven by
// playwright-core, on a 360 px wide screen. Run by web_admin_test.py as
//   node web_admin.mjs '{"base":…, "out":…, "chromium":…, "vadmin":…,
//     "hadmin":…, "learner":…, "btoken":…, "credential":…}'
// Scenario 1 (admin part), B's agreement, scenario 3 and scenario 4 of
// issue 9; see web_admin_test.py. Every page visited is checked for width,
// labels and contrast; every change request for its CSRF header. Any
// console error, page error or CSP violation fails, except the one failed
// request the scenario provokes on purpose (the refused import: 422),
// which is counted in `expected`. Prints one JSON line with what it saw;
// exit 0 when nothing went wrong, 1 when something did, 2 on a setup error.
import fs from 'node:fs';
import path from 'node:path';
import {launch, qualities, ready as readyIn, shot} from './web_lib.mjs';

let A;
try {
  A = JSON.parse(process.argv[2]);
} catch {
  console.error("usage: node web_admin.mjs '{\"base\":…}'");
  process.exit(2);
}
const seen = {errors: [], steps: [], expected: [], wide: [], unlabelled: [], lowContrast: [], csrfMissing: []};
let expecting = null;	// the HTTP status a failed request may have now
const browser = await launch(A.chromium);

const step = (name) => seen.steps.push(name);
const ready = (page, prefix) => readyIn(page, prefix, 30000);

// Width, labels and contrast of the page as it is now, then a screenshot.
async function look(page, name) {
  const where = name + ' ' + new URL(page.url()).hash;
  const q = await qualities(page, {visible: false});
  if (q.wide) seen.wide.push(where);
  for (const n of q.unlabelled) seen.unlabelled.push(where + ': ' + n);
  for (const c of q.lowContrast) seen.lowContrast.push([where, ...c]);
  await shot(page, A.out, name);
}

async function signIn(page, nid) {
  await page.goto(A.base + '/#/signin');
  await ready(page, '/signin');
  await page.getByLabel('Số định danh cá nhân (CCCD)').fill(nid);
  await page.getByLabel('Mật khẩu').fill('password-' + nid);
  await page.getByRole('button', {name: 'Đăng nhập'}).click();
  await ready(page, '/my');
}

// Signs out and waits for the catalog it leads to (so that its hash change
// cannot land on the next page).
async function signOut(page) {
  await page.locator('#signout').click();
  await page.getByRole('link', {name: 'Đăng nhập'}).waitFor();
  await page.waitForFunction(() => document.getElementById('main').dataset.ready === '/', null, {timeout: 30000});
}

async function go(page, hash) {
  if (page.url() === A.base + '/#' + hash) await page.reload();
  else await page.goto(A.base + '/#' + hash);
  await ready(page, hash.split('?')[0]);
}

const tableRows = (page, sel) => page.$$eval(sel + ' tbody tr, tbody' + sel + ' tr', (trs) => trs.map((tr) =>
  [...tr.children].map((td) => td.textContent.trim())));

const BAD_CSV = 'national_id,full_name,date_of_birth\n' +
  '040205000001,Phạm Minh Đức,2005-03-14\n' +
  '04020500002,Sai Số,2005-01-01\n' +
  '040205000003,Vũ Thị Lan,2006-11-02\n';

try {
  const context = await browser.newContext({viewport: {width: 360, height: 740}, acceptDownloads: true});
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const status = (m.text().match(/status of (\d{3})/) || [])[1];
    if (status && status === expecting) {
      seen.expected.push(status);
      expecting = null;
    } else seen.errors.push(m.text());
  });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('request', (r) => {
    if (r.url().startsWith(A.base + '/api/') && !page.url().includes('/verify.html') && !['GET', 'HEAD'].includes(r.method()) &&
        !r.url().endsWith('/api/v1/session') && !r.headers()['x-csrf-token'])
      seen.csrfMissing.push(r.method() + ' ' + r.url());
  });

  // ---- scenario 1, the admin's part: VNU's admin --------------------------------------
  await signIn(page, A.vadmin);
  await page.getByRole('link', {name: 'Quản trị cơ sở'}).click();
  await ready(page, '/admin');
  // all or nothing: the bad row is shown, nothing is imported
  await page.setInputFiles('#admin-import input[type=file]',
    {name: 'hoc-vien.csv', mimeType: 'text/csv', buffer: Buffer.from(BAD_CSV)});
  expecting = '422';
  await page.locator('#import').click();
  await page.locator('#import-errors').waitFor({timeout: 15000});
  seen.refused = {summary: await page.textContent('#import-summary'),
    rows: (await tableRows(page, '#import-errors')).map((r) => [r[0], r[2]])};
  await look(page, '10-import-refused');
  if (expecting) seen.errors.push('the refused import did not show as a failed request');
  expecting = null;
  // the valid rows, by keyboard: Tab to the box, Space, Tab Tab to the button, Enter
  await page.locator('#admin-import input[type=file]').focus();
  await page.keyboard.press('Tab');
  const onPartial = await page.evaluate(() => document.activeElement.id === 'partial');
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const onImport = await page.evaluate(() => document.activeElement.id === 'import');
  await page.keyboard.press('Enter');
  await page.locator('#import-codes').waitFor({timeout: 15000});
  seen.keyboard = onPartial && onImport;
  seen.imported = {summary: await page.textContent('#import-summary'),
    rows: (await tableRows(page, '#import-errors')).map((r) => [r[0], r[2]]),
    codes: (await tableRows(page, '#import-codes')).length};
  const [codesDl] = await Promise.all([page.waitForEvent('download', {timeout: 10000}),
    page.locator('#codes-file').click()]);
  seen.codesFile = fs.readFileSync(await codesDl.path(), 'utf8').trim().split(/\r?\n/);
  await look(page, '11-imported');
  step('imported');

  // a lecturer
  await page.getByRole('link', {name: 'Giảng viên'}).click();
  await ready(page, '/admin/lecturers');
  await page.getByLabel('Số định danh cá nhân', {exact: true}).fill('100000000055');
  await page.getByLabel('Họ và tên').fill('Đỗ Văn Mới');
  await page.locator('#add-lecturer').click();
  await page.locator('#lecturer-code').waitFor({timeout: 10000});
  seen.lecturerCode = await page.textContent('#lecturer-code');
  await page.waitForFunction(() => document.getElementById('lecturers').textContent.includes('\u0110\u1ed7 V\u0103n M\u1edbi'));
  seen.lecturers = await page.textContent('#lecturers');
  await look(page, '12-lecturers');
  step('lecturer');

  // an API token: made, its secret shown once, revoked
  await page.getByRole('link', {name: 'Khóa API'}).click();
  await ready(page, '/admin/tokens');
  await page.getByLabel('Tên', {exact: true}).fill('Hệ thống điểm');
  await page.getByLabel('credits:read').check();
  await page.locator('#create-token').click();
  await page.locator('#token-secret').waitFor({timeout: 10000});
  seen.tokenSecret = await page.textContent('#token-secret');
  await page.locator('#tokens').waitFor();
  await look(page, '13-token');
  await page.getByRole('button', {name: 'Thu hồi khóa Hệ thống điểm'}).click();
  await page.waitForFunction(() => document.getElementById('tokens') &&
    document.getElementById('tokens').textContent.includes('\u0110\u00e3 thu h\u1ed3i'));
  seen.tokenRevokedShown = true;
  step('token');

  // keys: listed with dates; a rotation after a confirmation
  await page.getByRole('link', {name: 'Khóa ký'}).click();
  await ready(page, '/admin/keys');
  await page.locator('#keys').waitFor();
  seen.keysBefore = (await tableRows(page, '#keys')).length;
  await page.locator('#rotate').click();
  await page.locator('#rotate-confirm').click();
  await page.waitForFunction(() => document.querySelectorAll('#keys tbody tr').length === 2, null, {timeout: 10000});
  seen.keysAfter = (await tableRows(page, '#keys')).length;
  await look(page, '14-keys');
  step('keys');

  // revocation: one credential with a reason; a bulk file with a bad row changes nothing
  await page.getByRole('link', {name: 'Thu hồi'}).click();
  await ready(page, '/admin/revocation');
  await page.getByLabel('Mã văn bằng').fill(A.wrong);
  await page.getByLabel('Lý do').fill('cấp nhầm học phần');
  await page.locator('#revoke-form button').click();
  await page.locator('#revoke-form .ok').waitFor({timeout: 10000});
  seen.revokedOne = await page.textContent('#revoke-form .ok');
  await page.setInputFiles('#revoke-bulk input[type=file]', {name: 'thu-hoi.csv', mimeType: 'text/csv',
    buffer: Buffer.from('credential_id,reason\nurn:uuid:00000000-0000-4000-8000-000000000000,sai\n')});
  expecting = '422';
  await page.locator('#revoke-bulk button').click();
  await page.locator('#revoke-errors').waitFor({timeout: 10000});
  if (expecting) seen.errors.push('the refused bulk revocation did not show as a failed request');
  expecting = null;
  seen.revokeBulkRows = (await tableRows(page, '#revoke-errors')).map((r) => [r[0], r[2]]);
  await look(page, '15-revocation');
  step('revocation');

  // the audit log, filtered
  await page.getByRole('link', {name: 'Nhật ký kiểm tra'}).click();
  await ready(page, '/admin/audit');
  await page.waitForFunction(() => document.querySelectorAll('#audit tr').length > 3);
  const events = (await tableRows(page, '#audit')).map((r) => r[1]);
  seen.auditEvents = [...new Set(events)];
  seen.auditHas = ['learners.imported', 'token.created', 'token.revoked', 'key.rotated', 'role.granted']
    .every((e) => events.includes(e));
  await page.getByLabel('Lọc').fill('token.');
  const filtered = (await tableRows(page, '#audit')).map((r) => r[1]);
  seen.auditFiltered = filtered.length;
  seen.auditFilteredOnly = filtered.every((e) => e.startsWith('token.'));
  await look(page, '16-audit');
  step('audit');
  await signOut(page);

  // ---- B's admin: a recognition agreement, proposed, then active --------------------------------
  await signIn(page, A.hadmin);
  await go(page, '/admin/agreements');
  await page.getByLabel('Cơ sở nguồn').fill('VNU');
  await page.getByLabel('Mã học phần', {exact: true}).fill('CS101');
  await page.getByLabel('Mã học phần của cơ sở').fill('NOPE1');
  await page.getByLabel('Điểm tối thiểu (không bắt buộc)').fill('5');
  expecting = '400';
  await page.locator('#save-rule').click();
  await page.locator('#admin-agreements .error').waitFor({timeout: 10000});
  if (expecting) seen.errors.push('the refused rule did not show as a failed request');
  expecting = null;
  seen.ruleBad = await page.evaluate(() => {
    const e = document.querySelector('#admin-agreements .error');
    return e && e.textContent.startsWith('target.course') ? e.textContent : null;
  });
  await page.getByLabel('Mã học phần của cơ sở').fill('IT101');
  await page.locator('#save-rule').click();
  await page.locator('#rule-saved').waitFor({timeout: 10000});
  const card = page.locator('#agreements .rule').first();
  await card.getByRole('combobox').selectOption('active');
  await card.getByRole('button', {name: 'Đổi trạng thái'}).click();
  await page.waitForFunction(() => (document.querySelector('#agreements .rule h3') || {}).textContent ===
    'Quy t\u1eafc 1, phi\u00ean b\u1ea3n 2', null, {timeout: 10000});
  // edited: the form holds the rule; saving makes version 3
  await card.getByRole('button', {name: 'Sửa'}).click();
  seen.editTitle = await page.textContent('#rule-form h2');
  seen.editSource = await page.getByLabel('Cơ sở nguồn').inputValue();
  await page.getByLabel('Điểm tối thiểu (không bắt buộc)').fill('6');
  await page.locator('#save-rule').click();
  await page.waitForFunction(() => (document.querySelector('#agreements .rule h3') || {}).textContent ===
    'Quy t\u1eafc 1, phi\u00ean b\u1ea3n 3', null, {timeout: 10000});
  await page.locator('#agreements .rule summary').first().click();
  seen.ruleCard = await page.textContent('#agreements .rule h3');
  seen.ruleVersions = await page.locator('#agreements .rule details li').count();
  await look(page, '17-agreements');
  step('agreement');
  await signOut(page);

  // ---- scenario 3: the learner downloads the credential, the verifier page checks it --------------
  await signIn(page, A.learner);
  await go(page, '/credits');
  await page.locator('#credits .credit').first().waitFor({timeout: 10000});
  const [download] = await Promise.all([page.waitForEvent('download', {timeout: 10000}),
    page.locator('#credits .credit', {hasText: 'CS101'}).getByRole('link', {name: 'Tải xuống (JSON)'}).click()]);
  const file = path.join(A.out, 'admin-credential.json');
  await download.saveAs(file);
  const text = fs.readFileSync(file, 'utf8');
  seen.downloaded = JSON.parse(text);
  const verdict = async () => {
    await page.waitForSelector('#verdict', {timeout: 15000});
    return page.evaluate(() => {
      const v = document.getElementById('verdict');
      const checks = [...document.querySelectorAll('li.check')].map((li) => [li.dataset.check, li.classList.contains('ok')]);
      const bad = document.querySelector('li.check.bad');
      return {text: v.textContent, ok: v.classList.contains('ok'), checks, badText: bad ? bad.textContent : ''};
    });
  };
  await page.goto(A.base + '/verify.html');
  await page.setInputFiles('#file', {name: 'credential.json', mimeType: 'application/json', buffer: Buffer.from(text)});
  seen.verifyFile = await verdict();
  await look(page, '20-verified');
  const tampered = JSON.parse(text);
  tampered.credentialSubject.result[0].value = '10';
  await page.goto(A.base + '/verify.html');
  await page.setInputFiles('#file', {name: 'tampered.json', mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(tampered))});
  seen.verifyTampered = await verdict();
  seen.verifyTampered.failedNamed = /ch\u1eef k\u00fd|signature/i.test(seen.verifyTampered.badText);
  await look(page, '21-tampered');
  step('verified');

  // ---- scenario 4: consent to University B, B's query, the read and the explanation --------------
  await go(page, '/consents');
  await page.getByLabel('Cơ sở đào tạo').selectOption('HUST');
  await page.getByLabel('Mục đích (không bắt buộc)').fill('xét tuyển');
  await look(page, '30-consent-form');
  await page.locator('#grant').click();
  await page.locator('#granted').waitFor({timeout: 10000});
  await page.waitForSelector('#consents .consent[data-institution="HUST"]');
  seen.consentCard = await page.textContent('#consents .consent[data-institution="HUST"]');
  step('consented');
  const query = async () => {
    const r = await fetch(A.base + '/api/v1/recognition/HUST/learners/' + A.learner,
      {headers: {authorization: 'Bearer ' + A.btoken, accept: 'application/json'}});
    return Object.assign({status: r.status}, await r.json());
  };
  seen.bQuery = await query();
  await go(page, '/consents');
  await page.waitForSelector('#accesses .access', {timeout: 10000});
  seen.accessLog = await page.textContent('#accesses');
  await look(page, '31-consents-read');
  await go(page, '/recognition?institution=HUST');
  await page.waitForSelector('#recognition .recog', {timeout: 15000});
  seen.explained = await page.textContent('#recognition');
  await look(page, '32-recognition');
  // a credential file held outside tinchi (here the tampered copy): explained, nothing stored
  await page.setInputFiles('#recog-file input[type=file]', {name: 'tampered.json', mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(tampered))});
  await page.locator('#recog-file button').click();
  await page.locator('#recog-outside').waitFor({timeout: 15000});
  seen.outside = await page.textContent('#recog-outside');
  // the transcripts, fetched as the links would
  seen.vpTypes = await page.evaluate(async () =>
    (await (await fetch(document.getElementById('transcript-vp').href)).json()).type);
  seen.elmoRoot = await page.evaluate(async () => new DOMParser().parseFromString(
    await (await fetch(document.getElementById('transcript-elmo').href)).text(), 'application/xml')
    .documentElement.localName);
  // the switch renders the page again: wait for that rendering to finish
  await page.evaluate(() => { delete document.getElementById('main').dataset.ready; });
  await page.locator('#lang').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await ready(page, '/recognition');
  seen.explainedEn = await page.textContent('#recognition');
  await look(page, '33-recognition-en');
  await page.locator('#lang').click();
  await page.waitForFunction(() => document.documentElement.lang === 'vi');
  step('explained');
  // withdrawn: B learns nothing any more
  await go(page, '/consents');
  await page.getByRole('button', {name: 'Rút lại sự đồng ý đã cho Đại học Bách khoa Hà Nội'}).click();
  await page.waitForFunction(() => document.querySelector('#consents .consent[data-institution="HUST"]') &&
    !document.querySelector('#consents .consent[data-institution="HUST"] button'), null, {timeout: 10000});
  seen.withdrawn = true;
  seen.bAfterWithdraw = (await query()).status;
  await look(page, '34-withdrawn');
  step('withdrawn');
  // again, for one chosen credential only: B reads just that one
  await page.getByLabel('Cơ sở đào tạo').selectOption('HUST');
  await page.getByLabel('Chỉ những tín chỉ tôi chọn').check();
  seen.choices = await page.locator('#consent-picks input').count();
  await page.getByLabel(/^CS101 /).check();
  await look(page, '35-consent-chosen');
  await page.locator('#grant').click();
  await page.waitForFunction(() => (document.querySelector('#consents .consent[data-institution="HUST"]') || {})
    .textContent?.includes('CS101 ') && document.querySelector('#consents .consent[data-institution="HUST"] button'),
  null, {timeout: 10000});
  seen.chosenCard = await page.textContent('#consents .consent[data-institution="HUST"]');
  seen.bChosen = (await query()).credentials?.map((c) => c.uid);
  step('chosen');
} catch (e) {
  seen.errors.push('driver: ' + e.message.split('\n')[0]);
  try {
    const pages = browser.contexts()[0]?.pages() || [];
    if (pages[0]) await pages[0].screenshot({path: path.join(A.out, 'admin-failure.png'), fullPage: true});
  } catch { /* nothing more to show */ }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
process.exit(seen.errors.length ? 1 : 0);
