// web_lecturer.mjs - the lecturer's pages in a real browser: Debian's
// Chromium, headless (the flags), driven by playwright-core, on a
// 360 px wide screen. Run by web_lecturer_test.py as
//   node web_lecturer.mjs BASE_URL OUT_DIR CHROMIUM LECTURER_ID LEARNER_ID VIDEO PDF
// (passwords: "password-" + national ID, as harness.DataCli.person sets).
// Scenario 1 of issue 9, the lecturer's part: sign in, create a course,
// upload a lecture video whose second chunk is cut off (page.route aborts
// it) and a PDF (the browser offline meanwhile), wait for the processing state "ready" pushed over the
// WebSocket, add a quiz with the editor (a first save refused by the API
// shows the error next to the field it names), reorder units with the
// keyboard, publish; then a learner (through the API, in another context)
// enrols and watches part of the lecture, and the lecturer sees the
// progress table and the watched-range chart. Screenshots go to OUT_DIR.
// Any console error, page error or CSP violation fails, except the ones
// the scenario causes on purpose (the cut chunk, the refused save), each
// expected once. Prints one JSON line with what it saw; exit 0 when all
// held, 1 when not, 2 on a setup error.
import {launch, qualities as pageQualities, ready, shot as shotIn, watchErrors} from './web_lib.mjs';

const [base, out, exe, lecId, learnerId, video, pdf] = process.argv.slice(2);
if (!base || !out || !exe || !lecId || !learnerId || !video || !pdf) {
  console.error('usage: node web_lecturer.mjs BASE_URL OUT_DIR CHROMIUM LECTURER_ID LEARNER_ID VIDEO PDF');
  process.exit(2);
}
const seen = {errors: [], steps: [], allowed: []};
let expected = [];	// console errors the scenario causes on purpose, each allowed once
const browser = await launch(exe);

// What a page must be: no wider than the screen, every field labelled, AA contrast.
async function qualities(page, name) {
  (seen.qualities ||= {})[name] = await pageQualities(page);
}

const shot = (page, name) => shotIn(page, out, name);
const step = (name) => seen.steps.push(name);

try {
  const context = await browser.newContext({viewport: {width: 360, height: 740}});
  const page = await context.newPage();
  expected = watchErrors(page, seen);
  const pushed = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    try {
      const m = JSON.parse(f.payload);
      if (m.type === 'media.progress') pushed.push(m.state);
    } catch { /* not JSON */ }
  }));

  // 1. sign in; the nav offers the teaching pages, which list the course taught
  await page.goto(base + '/#/signin?next=' + encodeURIComponent('#/teach'));
  await ready(page, '/signin');
  await page.getByLabel('Số định danh cá nhân (CCCD)').fill(lecId);
  await page.getByLabel('Mật khẩu', {exact: true}).fill('password-' + lecId);
  await page.getByRole('button', {name: 'Đăng nhập'}).click();
  await ready(page, '/teach');
  seen.navTeach = await page.locator('#nav a[href="#/teach"]').textContent();
  seen.listed = await page.locator('#teaching .card').allTextContents();
  await qualities(page, 'list');
  await shot(page, 'lect-01-list');
  step('signedIn');

  // 2. a new course: first with a code the institution has (the API's 409 next to the field), then right
  const form = page.locator('#new-course');
  await form.getByLabel('Mã khóa học').fill('SHARED1');
  await form.getByLabel('Tên khóa học').fill('Thiết kế web đáp ứng');
  await form.getByLabel('Số tín chỉ', {exact: true}).fill('2');
  await form.getByLabel('Mô tả', {exact: true}).fill('Học **CSS Grid** và Flexbox.');
  expected.push(/status of 409/);
  await form.getByRole('button', {name: 'Tạo khóa học'}).click();
  await form.locator('.field-error').waitFor({timeout: 10000});
  seen.codeError = await page.evaluate(() => {
    const el = document.querySelector('#new-course [name=code]');
    const err = el.closest('.field').querySelector('.field-error');
    return el.getAttribute('aria-invalid') === 'true' && document.activeElement === el && err ? err.textContent : null;
  });
  await shot(page, 'lect-02-field-error');
  await form.getByLabel('Mã khóa học').fill('WEB201');
  await form.getByRole('button', {name: 'Tạo khóa học'}).click();
  await ready(page, '/teach/');
  seen.course = (await page.evaluate(() => location.hash)).split('/')[2];
  step('created');

  // 3. the video, its second chunk cut off on the way
  let puts = 0;
  await page.route('**/api/v1/uploads/**', (route) => {
    const r = route.request();
    if (r.method() === 'PUT' && ++puts === 2) {
      seen.cutChunk = r.headers()['content-range'];
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  expected.push(/ERR_CONNECTION_RESET|ERR_FAILED/);
  const add = page.locator('#add-unit');
  await add.getByLabel('Loại học phần').selectOption('video');
  await add.getByLabel('Tên học phần').fill('Bài 1: Lưới CSS');
  await add.getByLabel('Tệp', {exact: true}).setInputFiles(video);
  await add.getByRole('button', {name: 'Thêm học phần'}).click();
  const vrow = page.locator('#units li[data-kind=video]');
  await vrow.waitFor({timeout: 120000});
  seen.uploadStates = await page.locator('#uploads .upload').first().getAttribute('data-states');
  seen.videoMaterial = await page.locator('#uploads .upload').first().getAttribute('data-done');
  seen.uploadBar = await page.evaluate(() => {
    const b = document.querySelector('#uploads progress');
    return [b.value, b.max];
  });
  seen.puts = puts;
  await page.unroute('**/api/v1/uploads/**');
  await shot(page, 'lect-03-uploaded');
  step('videoUploaded');

  // 4. the processing state, live, until ready
  await vrow.locator('.media-status[data-state=ready]').waitFor({timeout: 240000});
  seen.mediaText = await vrow.locator('.media-status').textContent();
  seen.mediaPushed = Number(await vrow.locator('.media-status').getAttribute('data-pushed') || 0);
  seen.pushedStates = pushed.slice();
  await shot(page, 'lect-04-ready');
  step('processed');

  // 5. the PDF: the browser goes offline during its chunk and back 1.5 s later
  let pdfPuts = 0;
  await page.route('**/api/v1/uploads/**', async (route) => {
    if (route.request().method() === 'PUT' && ++pdfPuts === 1) {
      await context.setOffline(true);
      setTimeout(() => context.setOffline(false), 1500);
      return route.abort('internetdisconnected');
    }
    return route.continue();
  });
  expected.push(/ERR_INTERNET_DISCONNECTED/);
  await add.getByLabel('Loại học phần').selectOption('document');
  await add.getByLabel('Tên học phần').fill('Tài liệu: bảng tóm tắt');
  await add.getByLabel('Tệp', {exact: true}).setInputFiles(pdf);
  await add.getByRole('button', {name: 'Thêm học phần'}).click();
  await page.locator('#units li[data-kind=document]').waitFor({timeout: 60000});
  seen.pdfMaterial = await page.locator('#uploads .upload').nth(1).getAttribute('data-done');
  seen.pdfStates = await page.locator('#uploads .upload').nth(1).getAttribute('data-states');
  seen.pdfPuts = pdfPuts;
  await page.unroute('**/api/v1/uploads/**');
  step('pdfUploaded');

  // 6. a quiz: the editor opens; a save with an empty option is refused next to it
  await add.getByLabel('Loại học phần').selectOption('quiz');
  await add.getByLabel('Tên học phần').fill('Kiểm tra cuối khóa');
  await add.getByRole('button', {name: 'Thêm học phần'}).click();
  await ready(page, '/teach/' + seen.course + '/quiz/');
  seen.quizUnit = (await page.evaluate(() => location.hash)).split('/')[4].split('?')[0];
  await page.getByLabel('Thời gian làm bài (phút)').fill('10');
  await page.getByLabel('Số lần làm').fill('3');
  await page.getByLabel('Hiện đáp án đúng').selectOption('after_last');
  await page.getByLabel('Thời gian chờ giữa hai lần làm (phút)').fill('30');
  await page.getByLabel('Câu hỏi', {exact: true}).fill('Thuộc tính nào tạo lưới?');
  await page.getByLabel('Phương án 1', {exact: true}).fill('display: grid');
  expected.push(/status of 400/);
  await page.getByRole('button', {name: 'Lưu bài kiểm tra'}).click();
  await page.locator('#quiz-form .field-error').waitFor({timeout: 10000});
  seen.quizError = await page.evaluate(() => {
    const el = document.querySelector("[data-path='questions[0].options[1].text']");
    const err = document.querySelector('#quiz-form .field-error');
    return {invalid: el.getAttribute('aria-invalid'), text: err.textContent,
      next: !!err.closest('.option, .field, fieldset')?.contains(el), focused: document.activeElement === el};
  });
  await shot(page, 'lect-05-quiz-error');
  await page.getByLabel('Phương án 2', {exact: true}).fill('display: block');
  await page.getByLabel('Loại câu hỏi mới').selectOption('truefalse');
  await page.getByRole('button', {name: 'Thêm câu hỏi'}).click();
  await page.locator("[data-q='1'] textarea").fill('Flexbox sắp xếp theo một chiều.');
  await page.locator("[data-q='1']").getByLabel('Đáp án đúng').selectOption('true');
  await page.getByLabel('Loại câu hỏi mới').selectOption('numeric');
  await page.getByRole('button', {name: 'Thêm câu hỏi'}).click();
  await page.locator("[data-q='2'] textarea").fill('Có bao nhiêu cột trong repeat(3, 1fr)?');
  await page.locator("[data-q='2']").getByLabel('Đáp án đúng').fill('3');
  // the numeric question moved above the true/false one, by keyboard
  await page.locator("[data-q='2'] .qup").focus();
  await page.keyboard.press('Enter');
  seen.quizFocusAfterMove = await page.evaluate(() => document.activeElement.closest('[data-q]')?.dataset.q);
  await qualities(page, 'quiz');
  await page.getByRole('button', {name: 'Lưu bài kiểm tra'}).click();
  await page.locator('#quiz-saved').waitFor({timeout: 10000});
  await shot(page, 'lect-06-quiz-saved');
  step('quizSaved');
  // opened again, the editor shows what is stored
  await page.goto(base + '/#/teach/' + seen.course + '/quiz/' + seen.quizUnit);
  await page.reload();
  await ready(page, '/teach/' + seen.course + '/quiz/' + seen.quizUnit);
  await page.locator('#questions fieldset.question').first().waitFor();
  seen.quizReloaded = await page.evaluate(() => ({
    questions: document.querySelectorAll('#questions fieldset.question').length,
    time: document.getElementById('quiz-time').value,
    show: document.getElementById('quiz-show').value,
    wait: document.getElementById('quiz-wait').value,
    kinds: [...document.querySelectorAll("#questions select[data-path$='.kind']")].map((s) => s.value),
    option2: document.querySelector("[data-path='questions[0].options[1].text']").value,
  }));

  // 7. back to the course: the quiz moved to the top and back down by keyboard; publish
  await page.getByRole('link', {name: 'Thiết kế web đáp ứng'}).click();
  await ready(page, '/teach/' + seen.course);
  const quizRow = `#units li[data-unit="${seen.quizUnit}"]`;
  await page.locator(quizRow + ' .up').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((sel) => document.querySelector('#units li:nth-child(2)')?.matches(sel), quizRow);
  await page.keyboard.press('Enter');	// focus stayed on the moved unit's button
  // at the top its Up is disabled: focus went to its Down
  await page.waitForFunction((sel) => document.querySelector('#units li:nth-child(1)')?.matches(sel), quizRow);
  seen.orderAfterUp = await page.evaluate(() => [...document.querySelectorAll('#units li')].map((l) => l.dataset.kind));
  seen.focusedAtTop = await page.evaluate(() => document.activeElement.className);
  await page.locator(quizRow + ' .down').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((sel) => document.querySelector('#units li:nth-child(2)')?.matches(sel), quizRow);
  await page.keyboard.press('Enter');
  await page.waitForFunction((sel) => document.querySelector('#units li:nth-child(3)')?.matches(sel), quizRow);
  seen.order = await page.evaluate(() => [...document.querySelectorAll('#units li')].map((l) => l.dataset.kind));
  // the course's fields: the title changed
  await page.locator('details summary').click();
  await page.locator('#course-fields').getByLabel('Tên khóa học').fill('Thiết kế web đáp ứng (2026)');
  await page.locator('#course-fields').getByRole('button', {name: 'Lưu', exact: true}).click();
  await page.locator('#course-fields .ok').waitFor({timeout: 10000});
  seen.renamed = await page.textContent('h1');
  await page.locator('#status-published').click();
  await page.locator('#course-status[data-status=published]').waitFor({timeout: 10000});
  await qualities(page, 'editor');
  await shot(page, 'lect-07-published');
  step('published');

  // 8. a learner, through the API: signs in, enrols, watches 0-8 s of the lecture
  const api = await browser.newContext();
  const req = api.request;
  let r = await req.post(base + '/api/v1/session', {data: {national_id: learnerId, password: 'password-' + learnerId}});
  const csrf = (await r.json()).csrf_token;
  const H = {'x-csrf-token': csrf};
  r = await req.post(base + '/api/v1/courses/' + seen.course + '/enrolment', {headers: H});
  seen.enrolStatus = r.status();
  const course = await (await req.get(base + '/api/v1/courses/' + seen.course)).json();
  const vunit = course.units.find((u) => u.kind === 'video').uid;
  r = await req.post(base + '/api/v1/units/' + vunit + '/progress', {headers: H,
    data: {events: [{event: 'play', position: 0, at: Date.now() - 9000},
      {event: 'heartbeat', position: 8, from: 0, to: 8, at: Date.now()}]}});
  seen.progressStatus = r.status();
  await api.close();
  step('learnerWatched');

  // 9. the lecturer's report: the table and the chart
  await page.getByRole('link', {name: 'Tiến độ người học'}).click();
  await ready(page, '/teach/' + seen.course + '/progress');
  await page.locator('#charts svg.chart').waitFor({timeout: 10000});
  seen.reportRow = await page.locator('#report tbody tr').first().textContent();
  seen.bars = await page.evaluate(() => [...document.querySelectorAll('#charts svg.chart rect.bar')]
    .map((b) => [Number(b.dataset.count), Number(b.getAttribute('height'))]));
  seen.chartLabel = await page.locator('#charts svg.chart').getAttribute('aria-label');
  await qualities(page, 'progress');
  await shot(page, 'lect-08-progress');
  step('report');

  // 10. English (the page is drawn again after the language is set: wait
  // for the heading to change, not only for lang, or a slow run reads the
  // Vietnamese one)
  const viTitle = await page.textContent('h1');
  await page.locator('#lang').click();
  await page.waitForFunction((before) => document.documentElement.lang === 'en' &&
    (document.querySelector('h1')?.textContent || before) !== before, viTitle);
  await ready(page, '/teach/');
  seen.englishTitle = await page.textContent('h1');
  await shot(page, 'lect-09-english');
  step('english');
  seen.notSeen = expected.map(String);
} catch (e) {
  seen.errors.push('scenario: ' + (e && e.stack || e));
}
await browser.close();
console.log(JSON.stringify(seen));
process.exit(seen.errors.length ? 1 : 0);
