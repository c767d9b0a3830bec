// web_page.mjs - the learner's web front end in a real browser: Debian's
// Chromium, headless, driven by playwright-core, on a 360 px wide screen.
// Run by web_test.py as
//   node web_page.mjs BASE_URL OUT_DIR CHROMIUM NATIONAL_ID ACTIVATION_CODE
// Scenario 2 of issue 9 as far as the pages go: the catalog's first load is
// measured (bytes transferred, from the performance entries); the learner
// activates their account, finds the course by searching without
// diacritics, enrols, plays the lecture (currentTime advances, progress
// acked over the WebSocket), reloads and resumes where they stopped, plays
// to the end, passes the quiz against its visible timer, sees the credit
// and downloads it, shares it by a link for 7 days, opens the link and
// withdraws it; then the English switch. Screenshots go to OUT_DIR.
// Any console error, page error or CSP violation fails. Prints one JSON
// line with what it saw; exit 0 when all held, 1 when not, 2 on a setup
// error.
import fs from 'node:fs';
import path from 'node:path';
import {contrastProblems, launch, ready, shot as shotIn, until, watchErrors} from './web_lib.mjs';

const [base, out, exe, nid, code] = process.argv.slice(2);
if (!base || !out || !exe || !nid || !code) {
  console.error('usage: node web_page.mjs BASE_URL OUT_DIR CHROMIUM NATIONAL_ID ACTIVATION_CODE');
  process.exit(2);
}
const PASSWORD = 'mot-mat-khau-dai-' + nid;
const seen = {errors: [], steps: []};
const browser = await launch(exe, ['--autoplay-policy=no-user-gesture-required']);

const shot = (page, name) => shotIn(page, out, name);
const step = (name, value) => { seen.steps.push(name); if (value !== undefined) seen[name] = value; };

try {
  const context = await browser.newContext({viewport: {width: 360, height: 740}, acceptDownloads: true});
  const page = await context.newPage();
  watchErrors(page, seen);
  const mediaPaths = [];
  page.on('request', (r) => { if (r.url().includes('/media/')) mediaPaths.push(new URL(r.url()).pathname); });

  // 1. the catalog's first load: everything it fetched, as transferred
  await page.goto(base + '/', {waitUntil: 'networkidle'});
  await ready(page, '/');
  seen.catalogBytes = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return performance.getEntriesByType('resource').reduce((n, r) => n + r.transferSize,
      nav.transferSize);
  });
  seen.catalogFiles = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((r) => [r.name.replace(location.origin, ''), r.transferSize]));
  seen.lang = await page.evaluate(() => document.documentElement.lang);
  seen.catalogTitle = await page.textContent('h1');
  seen.fits360 = await page.evaluate(() => document.documentElement.scrollWidth <= 360);
  seen.unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.name));
  await page.keyboard.press('Tab');
  seen.firstTab = await page.evaluate(() => document.activeElement.className);
  seen.lowContrast = await page.evaluate(contrastProblems);
  await shot(page, '01-catalog');
  step('catalog');

  // 2. activation with the one-time code (signs in and opens "my courses")
  await page.goto(base + '/#/activate');
  await ready(page, '/activate');
  await page.getByLabel('Số định danh cá nhân (CCCD)').fill(nid);
  await page.getByLabel('Mã kích hoạt').fill(code);
  await page.getByLabel('Mật khẩu mới').fill(PASSWORD);
  await page.getByLabel('Nhập lại mật khẩu').fill(PASSWORD);
  await shot(page, '02-activate');
  await page.getByRole('button', {name: 'Kích hoạt'}).click();
  await ready(page, '/my');
  step('activated');

  // 3. search without diacritics, open the course, enrol
  await page.goto(base + '/#/');
  await ready(page, '/');
  // by keyboard: type in the search field, Enter; the result link, Enter
  await page.getByLabel('Tìm học phần').focus();
  await page.keyboard.type('lap trinh web');
  await page.keyboard.press('Enter');
  // the catalog lists every course before the search's answer comes: the
  // answer is the list whose titles have the matches marked
  await page.locator('#results mark').first().waitFor({timeout: 10000}).catch(() => {});
  const hit = page.locator('#results .card a').first();
  await hit.waitFor({timeout: 10000});
  seen.lowContrastResults = await page.evaluate(contrastProblems);
  seen.searchHit = await hit.textContent();
  seen.searchMarked = await page.locator('#results mark').count();
  seen.searchCount = await page.locator('#results .card').count();
  seen.moreHidden = await page.getByRole('button', {name: 'Xem thêm'}).isHidden();
  await shot(page, '03-search');
  await hit.focus();
  await page.keyboard.press('Enter');
  await ready(page, '/course/');
  await page.locator('#enrol').click();
  await page.getByRole('link', {name: 'Vào học'}).waitFor({timeout: 10000});
  await shot(page, '04-course');
  await page.getByRole('link', {name: 'Vào học'}).click();
  await ready(page, '/learn/');
  step('enrolled');

  // 4. the lecture: play, pause at ~5 s with the progress acked
  const video = page.locator('#player');
  await video.waitFor({timeout: 15000});
  await page.waitForFunction(() => document.getElementById('player').readyState >= 2, null, {timeout: 20000});
  seen.captionTracks = await page.evaluate(() => document.querySelectorAll('#captions option').length - 1);
  await page.getByLabel('Phụ đề').selectOption('0');
  await page.waitForFunction(() => [...document.getElementById('player').textTracks]
    .some((tt) => tt.mode === 'showing'), null, {timeout: 10000});
  seen.captionsShowing = true;
  await page.evaluate(() => { const v = document.getElementById('player'); v.muted = true; return v.play(); });
  await page.waitForFunction(() => document.getElementById('player').currentTime > 5, null, {timeout: 30000});
  await page.evaluate(() => document.getElementById('player').pause());
  seen.pausedAt = await page.evaluate(() => document.getElementById('player').currentTime);
  const unitPath = page.url();
  const unit = unitPath.split('/').pop();
  await until(page, async (u) =>
    (await (await fetch('/api/v1/units/' + u + '/progress')).json()).position > 5, unit);
  seen.savedText = await page.textContent('#saved');
  seen.progressAfterPause = await page.evaluate(async (u) =>
    (await fetch('/api/v1/units/' + u + '/progress')).json(), unit);
  await shot(page, '05-lecture');
  step('played');

  // 5. reload: the player starts where the learner stopped
  await page.reload();
  await ready(page, '/learn/');
  await page.waitForFunction(() => document.getElementById('player') &&
    document.getElementById('player').readyState >= 1, null, {timeout: 20000});
  seen.resumeText = await page.textContent('#resume');
  await page.waitForFunction(() => document.getElementById('player').currentTime > 1, null, {timeout: 10000});
  seen.resumedAt = await page.evaluate(() => document.getElementById('player').currentTime);
  step('resumed');
  // the data saving choice: 360p, then audio only (its own playlist)
  await page.getByLabel('Chất lượng').selectOption('360p');
  await page.waitForFunction(() => document.getElementById('player').readyState >= 1, null, {timeout: 10000});
  const before = mediaPaths.length;
  await page.getByLabel('Chất lượng').selectOption('audio');
  for (let i = 0; i < 40 && !mediaPaths.slice(before).some((p) => p.includes('/audio/')); i++)
    await page.waitForTimeout(250);
  seen.audioFetched = mediaPaths.slice(before).filter((p) => p.includes('/audio/')).length;
  await page.waitForTimeout(1500);
  const firstAudio = mediaPaths.findIndex((p, i) => i >= before && p.includes('/audio/'));
  seen.videoAfterAudio = firstAudio < 0 ? -1
    : mediaPaths.slice(firstAudio).filter((p) => /\/(360p|original)\//.test(p)).length;
  seen.quality = await page.evaluate(() => localStorage.getItem('tinchi.quality'));
  await shot(page, '05b-audio-only');

  // 6. play to the end: the unit is completed by the server
  await page.evaluate(() => { const v = document.getElementById('player'); v.muted = true; return v.play(); });
  await page.waitForFunction(() => document.getElementById('player').ended, null, {timeout: 60000});
  await until(page, async (u) => {
    const p = await (await fetch('/api/v1/units/' + u + '/progress')).json();
    return p.completed;
  }, unit, {timeout: 20000, every: 500});
  step('lectureCompleted');

  // 7. the document: a link that opens the PDF
  await page.getByRole('link', {name: 'Tài liệu bài 1'}).click();
  const docLink = page.getByRole('link', {name: 'Mở tài liệu'});
  await docLink.waitFor({timeout: 10000});
  seen.documentHref = await docLink.getAttribute('href');
  seen.documentType = await page.evaluate(async (href) =>
    (await fetch(href)).headers.get('content-type'), seen.documentHref);

  // 8. the quiz, with its timer
  await page.getByRole('link', {name: 'Kiểm tra cuối khóa'}).click();
  await page.locator('#start').click();
  await page.locator('#timer').waitFor({timeout: 10000});
  seen.timer = await page.textContent('#timer');
  await page.getByLabel('HyperText Markup Language').check();
  await page.getByLabel('Đúng', {exact: true}).check();
  await shot(page, '06-quiz');
  seen.lowContrastQuiz = await page.evaluate(contrastProblems);
  await page.locator('#submit').click();
  await page.locator('#verdict').waitFor({timeout: 10000});
  seen.verdict = await page.textContent('#verdict');
  step('quizPassed');

  // 9. my courses, then the credit: listed, downloaded
  await page.goto(base + '/#/my');
  await ready(page, '/my');
  await page.waitForFunction(() => (document.querySelector('.card p span')?.textContent || '') !== '', null,
    {timeout: 10000});
  seen.myCourses = await page.textContent('.card');
  await shot(page, '07-my-courses');
  for (let i = 0; i < 20; i++) {
    await page.goto(base + '/#/credits');
    await ready(page, '/credits');
    if (await page.locator('#credits .credit').count()) break;
    await page.waitForTimeout(500);
  }
  seen.credit = await page.textContent('#credits');
  await shot(page, '08-credits');
  const [download] = await Promise.all([page.waitForEvent('download', {timeout: 10000}),
    page.getByRole('link', {name: 'Tải xuống (JSON)'}).click()]);
  const file = path.join(out, 'credential.json');
  await download.saveAs(file);
  seen.downloaded = JSON.parse(fs.readFileSync(file, 'utf8'));
  // the credit's QR code and verification link, opened in the list
  await page.locator('#credits .credit-qr summary').first().click();
  await page.locator('#credits .credit-qr svg').first().waitFor({timeout: 10000});
  seen.qrSvg = await page.locator('#credits .credit-qr svg').first().evaluate((e) => e.outerHTML);
  seen.qrBox = (await page.locator('#credits .credit-qr svg').first().boundingBox()) || {};
  seen.qrLink = await page.locator('#credits .credit-qr a.verify-url').first().getAttribute('href');
  seen.fits360Credits = await page.evaluate(() => document.documentElement.scrollWidth <= 360);
  await shot(page, '08b-credits-qr');
  // the printable page: its link makes (or finds) the verification link by
  // POST first, then opens the page, which shows it
  const [printed] = await Promise.all([page.context().waitForEvent('page', {timeout: 10000}),
    page.getByRole('link', {name: 'Bản in có mã QR'}).first().click()]);
  await printed.waitForLoadState();
  seen.printLink = await printed.locator('a.verify-url').getAttribute('href', {timeout: 10000})
    .catch((e) => 'error: ' + e.message);
  await printed.close();
  step('credit');

  // 9b. the credit's share links: one made for 7 days (copied), listed with
  // its end date, opened (it verifies), withdrawn behind a confirmation,
  // gone from the list, and its address no longer answers
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: base});
  const card = page.locator('#credits .credit').first();
  await card.locator('.credit-share summary').click();
  await card.locator('.credit-share .share-list h3').waitFor({timeout: 10000});
  seen.sharesBefore = await card.locator('.share').evaluateAll((li) => li.map((x) => x.dataset.kind));
  await card.getByLabel('Thời hạn của liên kết').selectOption('7');
  await card.getByRole('button', {name: 'Tạo liên kết'}).click();
  const urlBox = card.getByLabel('Liên kết chia sẻ mới');
  await urlBox.waitFor({timeout: 10000});
  const shareUrl = await urlBox.inputValue();
  seen.shareUrl = shareUrl;
  seen.shareUntil = await card.locator('.share-new .share-until').textContent();
  await card.getByRole('button', {name: 'Sao chép'}).click();
  await page.waitForFunction(() => document.querySelector('.share-new .actions span')?.textContent, null,
    {timeout: 5000});
  seen.copyNote = await card.locator('.share-new .actions span').textContent();
  seen.clipboard = await page.evaluate(() => navigator.clipboard.readText()).catch((e) => 'error: ' + e.message);
  const row = card.locator('.share', {has: page.locator(`a.share-url[href="${shareUrl}"]`)});
  await row.waitFor({timeout: 10000});
  seen.shareRow = {id: await row.getAttribute('data-id'), kind: await row.getAttribute('data-kind'),
    expires: await row.locator('.share-expires').textContent(), text: await row.textContent()};
  const listed = await page.evaluate(async (u) => (await (await fetch(u)).json()).shares,
    (await card.locator('a[download]').getAttribute('href')).split('?')[0] + '/shares');
  seen.shareListed = listed.find((x) => x.id === seen.shareRow.id) || null;
  seen.shareExpiresShown = seen.shareListed && await page.evaluate((iso) => new Intl.DateTimeFormat('vi-VN',
    {dateStyle: 'medium', timeStyle: 'short'}).format(new Date(iso)), seen.shareListed.expires_at);
  seen.fits360Shares = await page.evaluate(() => document.documentElement.scrollWidth <= 360);
  seen.unlabelledShares = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.name));
  seen.lowContrastShares = await page.evaluate(contrastProblems);
  await shot(page, '08c-credits-share');
  const visit = await context.newPage();
  let r = await visit.goto(shareUrl);
  seen.shareOpened = {status: r.status(), verdict: await visit.locator('.verdict').first().getAttribute('class'),
    text: await visit.locator('.verdict').first().textContent()};
  await row.getByRole('button', {name: 'Thu hồi'}).click();
  seen.withdrawAsk = await row.locator('.confirm-box').textContent();
  seen.stillListedWhileAsking = await row.count();
  await shot(page, '08d-credits-withdraw');
  await row.getByRole('button', {name: 'Có, thu hồi'}).click();
  await card.locator(`.share[data-id="${seen.shareRow.id}"]`).waitFor({state: 'detached', timeout: 10000});
  seen.sharesAfter = await card.locator('.share').evaluateAll((li) => li.map((x) => [x.dataset.kind, x.dataset.id]));
  seen.sharesEnded = await card.locator('.share-list p.share-ended').textContent();
  seen.withdrawnSaid = await page.textContent('#status');
  seen.newLinkAfter = await card.locator('.share-new').textContent();
  r = await visit.goto(shareUrl);
  seen.shareAfter = {status: r.status(), text: await visit.locator('.verdict').first().textContent()};
  await visit.close();
  step('shared');

  // 10. English, then sign out
  const viTitle = await page.textContent('h1');
  await page.locator('#lang').click();
  await page.waitForFunction((before) => document.documentElement.lang === 'en' &&
    (document.querySelector('h1')?.textContent || before) !== before, viTitle);
  seen.englishTitle = await page.textContent('h1');
  await shot(page, '09-credits-en');
  await page.locator('#signout').click();
  await page.getByRole('link', {name: 'Sign in'}).waitFor();
  step('signedOut');
} catch (e) {
  seen.errors.push('driver: ' + e.message.split('\n')[0]);
  try {
    const pages = browser.contexts()[0]?.pages() || [];
    if (pages[0]) await pages[0].screenshot({path: path.join(out, 'failure.png'), fullPage: true});
  } catch { /* nothing more to show */ }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
process.exit(seen.errors.length ? 1 : 0);
