// Baseline 1: bare Express 5 + pg, answering with res.json.
import { createHash } from 'node:crypto';
import express from 'express';
import { bind, endpoints, params, pool, port, sqlText } from './shared.mjs';

const app = express();
app.get('/healthz', (_req, res) => {
  res.json({ ok: true });
});
app.get('/products', async (req, res) => {
  const { rows } = await pool.query(sqlText, params(req.url));
  res.json({ items: rows.slice(0, 50) });
});

if (endpoints) {
  // Scenario L's routes, each running the statements Keel sends for the same call.
  const signedIn = async (req) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return undefined;
    const tokenHash = createHash('sha256').update(token).digest();
    const { rows } = await pool.query(
      endpoints.session.sql,
      bind(endpoints.session, { tokenHash }),
    );
    return rows[0];
  };
  app.get('/products/:id', async (req, res) => {
    const { rows } = await pool.query(endpoints.byId.sql, bind(endpoints.byId, req.params));
    if (rows[0]) res.json(rows[0]);
    else res.status(404).json({ error: 'not found' });
  });
  app.get('/orders', async (req, res) => {
    const user = await signedIn(req);
    if (!user) return res.status(401).json({ error: 'sign in first' });
    const { rows } = await pool.query(
      endpoints.ordersList.sql,
      bind(endpoints.ordersList, { userId: user.id }),
    );
    res.json({ items: rows.slice(0, 20) });
  });
  app.post('/products/:id', express.json(), async (req, res) => {
    const user = await signedIn(req);
    if (!user) return res.status(401).json({ error: 'sign in first' });
    if (user.role !== 'admin') return res.status(403).json({ error: 'admins only' });
    const { rows } = await pool.query(
      endpoints.update.sql,
      bind(endpoints.update, { id: req.params.id, stockQuantity: req.body.stockQuantity }),
    );
    if (rows[0]) res.json(rows[0]);
    else res.status(404).json({ error: 'not found' });
  });
}
app.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
