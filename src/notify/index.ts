export { renderRunMattermostText, renderRunSummary, renderRunTable, sortLegs } from "./aggregate.js";
export { type LegLinks, type Link, legLinks, testStatusLine, workflowRunUrl } from "./links.js";
export {
  DEFAULT_NOTIFY_RETRY,
  type MattermostPayload,
  maskWebhookUrl,
  mattermostPayload,
  type NotifyResult,
  type PostOptions,
  postMattermost,
  validateWebhookUrl,
} from "./mattermost.js";
export {
  headline,
  type MattermostRenderOptions,
  type RenderOptions,
  renderJobSummary,
  renderMattermostText,
  renderPackageDiff,
} from "./render.js";
