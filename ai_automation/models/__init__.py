from . import aia_session, ir_actions_server, ir_cron, ir_websocket, res_config_settings
