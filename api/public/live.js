// The live page: one EventSource on /api/live; each "tick" redraws the chart, the funnel and the newest
// events. `window.live` exposes what is drawn, for the browser test.

const WINDOW_SECONDS = 300;
const COLORS = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#ca8a04',
  '#db2777',
  '#4f46e5',
  '#65a30d',
  '#0d9488',
  '#b91c1c',
  '#7c3aed',
  '#c2410c',
  '#15803d',
  '#475569',
];

const live = { ticks: 0, stored: 0, newest: [], behindSeconds: undefined, plot: undefined };
window.live = live;

// The actions and the funnel's steps come with each tick, from the API's own definitions.
function chartData(perSecond, nowSeconds, actions) {
  const start = nowSeconds - WINDOW_SECONDS + 1;
  const xs = Array.from({ length: WINDOW_SECONDS }, (_, index) => start + index);
  const series = actions.map(() => new Array(WINDOW_SECONDS).fill(0));
  for (const { second, action, count } of perSecond) {
    const column = second - start;
    const row = actions.indexOf(action);
    if (column >= 0 && column < WINDOW_SECONDS && row >= 0) series[row][column] = count;
  }
  return [xs, ...series];
}

function drawChart(data, actions) {
  if (live.plot) {
    live.plot.setData(data);
    return;
  }
  const element = document.getElementById('chart');
  const options = {
    width: element.clientWidth || 900,
    height: 280,
    scales: { x: { time: true } },
    series: [{}, ...actions.map((label, index) => ({ label, stroke: COLORS[index], width: 1.5, show: index < 6 }))],
    axes: [{}, { label: 'events/s' }],
  };
  live.plot = new uPlot(options, data, element);
  window.addEventListener('resize', () => live.plot.setSize({ width: element.clientWidth, height: 280 }));
}

function drawFunnel(funnel, steps) {
  const list = document.getElementById('funnel');
  const top = Math.max(1, ...steps.map((step) => funnel[step] ?? 0));
  list.replaceChildren(
    ...steps.map((step, index) => {
      const events = funnel[step] ?? 0;
      const previous = index === 0 ? events : (funnel[steps[index - 1]] ?? 0);
      const share = index === 0 || previous === 0 ? '' : ` · ${Math.round((100 * events) / previous)}% of ${steps[index - 1]}`;
      const item = document.createElement('li');
      item.innerHTML = '<div class="label"><span></span><span></span></div><div class="bar"></div>';
      item.querySelector('.label span:first-child').textContent = step;
      item.querySelector('.label span:last-child').textContent = `${events.toLocaleString()}${share}`;
      item.querySelector('.bar').style.width = `${(100 * events) / top}%`;
      return item;
    }),
  );
}

function drawNewest(newest) {
  const body = document.getElementById('newest');
  body.replaceChildren(
    ...newest.map((event) => {
      const row = document.createElement('tr');
      for (const text of [event.timestamp.slice(11, 23), event.action, `${event.user}…`, event.device ?? '']) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

function drawStatus(kind, text) {
  const status = document.getElementById('status');
  status.className = `status ${kind}`;
  status.textContent = text;
}

function onTick(message) {
  const tick = JSON.parse(message.data);
  const nowMs = Date.parse(tick.now);
  const data = chartData(tick.perSecond, Math.floor(nowMs / 1000), tick.actions);
  drawChart(data, tick.actions);
  drawFunnel(tick.funnel, tick.steps);
  drawNewest(tick.newest);
  live.ticks += 1;
  live.stored = data.slice(1).reduce((sum, series) => sum + series.reduce((a, b) => a + b, 0), 0);
  live.newest = tick.newest.map((event) => event.id);
  if (tick.newestAt === null) {
    live.behindSeconds = undefined;
    drawStatus('late', 'no event stored yet');
    return;
  }
  live.behindSeconds = Math.max(0, (nowMs - Date.parse(tick.newestAt)) / 1000);
  const behind = live.behindSeconds < 60 ? `${live.behindSeconds.toFixed(1)} s` : `${Math.round(live.behindSeconds / 60)} min`;
  drawStatus(live.behindSeconds < 10 ? 'ok' : 'late', `newest stored event ${behind} behind now`);
}

const source = new EventSource('/api/live');
source.addEventListener('tick', onTick);
source.addEventListener('problem', (message) => drawStatus('down', `PostgreSQL: ${JSON.parse(message.data).detail}`));
source.addEventListener('error', () => drawStatus('down', 'the API does not answer; retrying…'));
