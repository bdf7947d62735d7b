/** Room names, built in one place. A viewer's room spans the channel: their offers follow them across its streams. */
export const viewerRoom = (channel: string, viewerId: string) => `viewer:${channel}:${viewerId}`;
export const streamRoom = (streamId: string) => `stream:${streamId}`;
export const hostRoom = (streamId: string) => `host:${streamId}`;
