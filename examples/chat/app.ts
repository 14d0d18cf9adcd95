/**
 * The chat app module for the CLI: `socketio-actors run dist/examples/chat/app.js`
 * (what `npm start` runs) loads it and serves its default export.
 */
import { createChat } from './server.js';

const io = createChat();
export default io;
