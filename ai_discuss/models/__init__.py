from . import aia_agent, aia_session, discuss_channel, mail_thread, res_partner
