from . import aia_session, discuss_channel, im_livechat_channel
