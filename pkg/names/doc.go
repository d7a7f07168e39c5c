// Package names is the one place where NATS subjects, stream and consumer
// names, message headers and Redis keys are built and parsed. Nothing else
// formats them by hand, so a prefix that isolates a fleet (WAGATE_NATS_PREFIX,
// WAGATE_REDIS_PREFIX) applies everywhere at once.
//
// Subjects (with prefix p, every subject starts with "p."):
//
//	wa.cmd.<channel>.<verb>             commands as published by the API or apps
//	wa.cmdp.<shard>.<channel>.<verb>    commands as stored in WA_CMD (subject transform)
//	wa.evt.<channel>.<event.type>       events in WA_EVT
//	wa.whk.<endpoint>                   webhook deliveries in WA_WEBHOOK
//	wa.ctl.webhooks                     core NATS: webhook endpoints changed (not stored)
//	wa.rpc.<shard>.<channel>.<method>   core NATS request/reply to the owner of a shard (not stored)
//
// Channel ids and verbs are single NATS tokens: no dots, spaces or wildcards.
package names
