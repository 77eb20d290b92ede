/** The API daemon: its settings and logger from the environment, then the API until a signal stops it. */
import { runDaemon } from '@user-actions/shared/daemon';
import { startDaemonProcess } from '@user-actions/shared/daemon-start';
import { startApi } from './api.js';
import { apiSettings, loadApiConfig } from './config.js';

const { config, logger } = startDaemonProcess(
  {
    name: 'api',
    summary: 'Serves the stored user actions: GET /api/user/actions (paged or streamed), counts, exports and a live page.',
    settings: apiSettings,
  },
  loadApiConfig,
);

runDaemon(() => startApi(config, logger), { logger });
