package event

// AdminChannel is the channel id of admin-level events, which belong to no
// channel (command.failed for a command naming an unknown channel): they
// travel on wa.evt._admin.<type>, and admin-level webhook endpoints
// receive them.
const AdminChannel = "_admin"
