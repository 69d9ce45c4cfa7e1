import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createActions } from './actions';
import { ActionsProvider } from './actions/context';
import { connect } from './api';
import { App } from './App';
import './styles.css';

const actions = createActions(connect());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ActionsProvider actions={actions}>
      <App />
    </ActionsProvider>
  </StrictMode>,
);
