// Link check of README.md and docs/ (`npm run lint:docs`): every link to a local file, and
// every heading anchor in this file or another one, must resolve. Offline: remote URLs
// are not fetched, and `repository: false` keeps the plugin from reading a Git remote.
import remarkValidateLinks from 'remark-validate-links';

export default {
  plugins: [[remarkValidateLinks, { repository: false, root: import.meta.dirname }]],
};
