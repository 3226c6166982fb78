// deno-fmt-ignore-file
// deno-lint-ignore-file
// The seed README's example, verbatim below this comment (seed_readme_check.cjs runs it).
var express = require('express');
var session = require('express-session');
var SmartRedis = require('connect-smart-redis')(session);
var thirtyDays = 30 * 24 * 60 * 60;
var app = express();
app.use(session({
  store: new SmartRedis({ client: require('redis').createClient(), ttl: thirtyDays }),
  secret: 'keyboard cat',
  resave: false,
  saveUninitialized: false
}));
app.get('/', function (req, res) {
  req.session.visits = (req.session.visits || 0) + 1;
  res.send('You visited this site ' + req.session.visits + ' times!');
});
app.listen(3000);
